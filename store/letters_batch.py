"""The day's letters, for the manager who prints and posts them: which ones, and one batch PDF.

A letter is an outbox row of kind `client_letter`. `m3 send` writes its PDF to
`<letters_dir>/<YYYY-MM-DD>/letter-<id>-case-<case>.pdf` and marks the row "sent" with
`message_id = "letter:<that path, relative>"`: that is a letter *produced*. The manager then
prints the day's produced letters as one PDF (the files merged in case order, with pypdf:
the letters are the very files `m3 send` wrote, not a re-rendering with another date) and
records them posted (states/letters.py, through the write path, one audit record per case).

A produced letter whose case has moved on since (the client called back: joint/RDV, or the
case was closed) is not to be posted: it is listed apart and left out of the batch.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Connection, func, select

from states.calendar import PARIS
from states.lifecycle import STATE_LABELS, State
from states.people import client_display_name
from store.snapshot import CASE, CLIENT
from store.tables import Notification

N = Notification.__table__
KIND = "client_letter"


@dataclass(frozen=True)
class Letter:
    id: int
    case_id: int
    case_version: int
    case_state: str
    client_name: str
    status: str
    produced_at: datetime | None
    posted_on: date | None
    path: Path | None  # the PDF, when it was produced and is still in the letters folder

    @property
    def state_label(self) -> str:
        return STATE_LABELS[State(self.case_state)]

    @property
    def to_post(self) -> bool:
        """Produced, not yet posted, and its case still waits for it (courrier envoyé)."""
        return (self.status == "sent" and self.posted_on is None and self.path is not None
                and self.case_state == State.COURRIER_ENVOYE.value)

    @property
    def moved_on(self) -> bool:
        return self.status == "sent" and self.posted_on is None and self.case_state != State.COURRIER_ENVOYE.value


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=PARIS)
    return start, start + timedelta(days=1)


def _path(letters_dir: Path, message_id: str | None) -> Path | None:
    if not message_id or not message_id.startswith("letter:"):
        return None
    rel = message_id[len("letter:"):]
    path = (letters_dir / rel).resolve()
    if letters_dir.resolve() not in path.parents or not path.is_file():
        return None
    return path


def _scoped(stmt, scope: str | None):
    return stmt.where(CASE.c.agency_id == scope) if scope is not None else stmt


def letters_of_day(conn: Connection, scope: str | None, day: date, letters_dir: Path) -> list[Letter]:
    """The letters produced on `day` (Paris), in case order."""
    start, end = _day_bounds(day)
    stmt = (select(N.c.id, N.c.case_id, N.c.status, N.c.sent_at, N.c.posted_on, N.c.message_id, CASE.c.version,
                   CASE.c.state, CLIENT.c.id.label("client_id"), CLIENT.c.kind, CLIENT.c.first_name,
                   CLIENT.c.last_name, CLIENT.c.company_name)
            .join(CASE, CASE.c.id == N.c.case_id).join(CLIENT, CLIENT.c.id == CASE.c.client_id)
            .where(N.c.kind == KIND, N.c.status == "sent", N.c.sent_at >= start, N.c.sent_at < end)
            .order_by(N.c.case_id, N.c.id))
    return [Letter(r.id, r.case_id, r.version, r.state,
                   client_display_name(r.kind, r.first_name, r.last_name, r.company_name, r.client_id),
                   r.status, r.sent_at, r.posted_on, _path(letters_dir, r.message_id))
            for r in conn.execute(_scoped(stmt, scope))]


def waiting(conn: Connection, scope: str | None) -> int:
    """Letters queued but not produced yet (`m3 send` has not run since)."""
    stmt = (select(func.count()).select_from(N.join(CASE, CASE.c.id == N.c.case_id))
            .where(N.c.kind == KIND, N.c.status.in_(("pending", "sending"))))
    return conn.execute(_scoped(stmt, scope)).scalar_one()


def recent_days(conn: Connection, scope: str | None, today: date, days: int = 31) -> list[tuple[date, int, int]]:
    """[(day, letters produced, of which still to post)] over the last `days` days, newest first."""
    start, _ = _day_bounds(today - timedelta(days=days))
    stmt = (select(N.c.sent_at, N.c.posted_on, CASE.c.state).join(CASE, CASE.c.id == N.c.case_id)
            .where(N.c.kind == KIND, N.c.status == "sent", N.c.sent_at >= start))
    out: dict[date, list[int]] = {}
    for r in conn.execute(_scoped(stmt, scope)):
        d = r.sent_at.astimezone(PARIS).date()
        entry = out.setdefault(d, [0, 0])
        entry[0] += 1
        entry[1] += r.posted_on is None and r.state == State.COURRIER_ENVOYE.value
    return sorted(((d, n, p) for d, (n, p) in out.items()), reverse=True)


def batch_pdf(paths: list[Path]) -> bytes:
    """One PDF of the letters, in the order given (each letter starts on a new sheet)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for path in paths:
        writer.append(str(path))
    buf = io.BytesIO()
    writer.write(buf)
    writer.close()
    return buf.getvalue()
