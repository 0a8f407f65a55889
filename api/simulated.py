"""The server on a simulated date (M3_TODAY), for demos and end-to-end tests that walk chosen days.

- `M3_TODAY=2026-11-21`: the clock says 21 November 2026 at the current time of day in
  Europe/Paris (time moves, the day does not);
- `M3_TODAY=2026-11-21T08:30:00` (naive = Europe/Paris) or with an offset: the clock is frozen
  at that instant.
While it is set, every answer carries `X-M3-Simulated-Date: <the clock's date, Paris>` and the
pages show a banner (`banner(request)`), so nobody mistakes a demo for the real day.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from states.calendar import PARIS

HEADER = "X-M3-Simulated-Date"
Clock = Callable[[], datetime]
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")


def parse(value: str) -> date | datetime:
    """'2026-11-21' -> a date; '2026-11-21T08:30' -> an aware datetime (naive = Europe/Paris)."""
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=PARIS) if at.tzinfo is None else at


def simulated_day(value: str | None) -> date | None:
    """The date part of M3_TODAY (what `--today` defaults to), or None."""
    if not value:
        return None
    parsed = parse(value)
    return parsed.astimezone(PARIS).date() if isinstance(parsed, datetime) else parsed


def clock(value: str, real: Clock = lambda: datetime.now(timezone.utc)) -> Clock:
    """The clock M3_TODAY describes (`real` gives the time of day for a date-only value)."""
    parsed = parse(value)
    if isinstance(parsed, datetime):
        frozen = parsed.astimezone(timezone.utc)
        return lambda: frozen

    def _on_day() -> datetime:
        now = real().astimezone(PARIS)
        return datetime.combine(parsed, time(now.hour, now.minute, now.second, now.microsecond),
                                PARIS).astimezone(timezone.utc)
    return _on_day


class SimulatedDateHeader:
    """Pure ASGI middleware: adds the header with the app clock's date to every HTTP answer."""

    def __init__(self, app: ASGIApp, clock_of: Callable[[], Clock]) -> None:
        self.app, self.clock_of = app, clock_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                day = self.clock_of()().astimezone(PARIS).date().isoformat()
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.lower().encode(), day.encode())]
            await send(message)

        await self.app(scope, receive, _send)


def install(app, today: str | None) -> None:
    """Mark the app as simulated (M3_TODAY set) and add the header; nothing when not set."""
    app.state.simulated = bool(today)
    if today:
        app.add_middleware(SimulatedDateHeader, clock_of=lambda: app.state.clock)


def simulated_date(request: Request) -> date | None:
    """The simulated date the request runs on, or None on the real clock (for the pages)."""
    if not getattr(request.app.state, "simulated", False):
        return None
    return request.app.state.clock().astimezone(PARIS).date()


def banner(request: Request) -> str | None:
    """The French banner the pages show while the server runs on a simulated date, or None."""
    day = simulated_date(request)
    if day is None:
        return None
    return (f"Date simulée : {_DAYS[day.weekday()]} {day.day if day.day > 1 else '1er'} {_MONTHS[day.month - 1]} "
            f"{day.year} (M3_TODAY) — ce n'est pas la date réelle")
