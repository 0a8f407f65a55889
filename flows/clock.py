"""The as-of date of a run. The flows never read the wall clock: the edge (a command, a Prefect
flow wrapper) resolves `--today` here and passes the date and a timestamp down."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from states.calendar import PARIS


def resolve(today: date | str | None, at: time = time(7)) -> tuple[date, datetime]:
    """(as-of date, timestamp of the changes). An explicit date gives a reproducible timestamp
    (`at` o'clock in Paris that day), so replaying a day writes the same rows; no date means now."""
    if today is None:
        now = datetime.now(timezone.utc)
        return now.astimezone(PARIS).date(), now
    if isinstance(today, str):
        today = date.fromisoformat(today)
    return today, datetime.combine(today, at, PARIS).astimezone(timezone.utc)
