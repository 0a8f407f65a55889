"""Right-of-access requests (RGPD art. 15): recorded, due one month after receipt, open until answered.

Article 12(3) gives the controller one month from the receipt of the request; the month runs
from the day the request reached the agency (`received_on`, which may be before the day it is
recorded), to the same day of the next month, or that month's last day when it has no such day
(31 January -> 28/29 February), as python-dateutil's relativedelta counts. The compliance page
lists open requests by due date, the overdue ones first, until someone marks them answered
(with the export sent, typically the JSON of GET /api/clients/{id}/export).

Not a case change: a request concerns the client, whatever its cases, so it is not written
through the case write path; the row itself records who recorded and who answered it, and when.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, insert, select, update

from states.people import client_display_name
from store.snapshot import CLIENT
from store.tables import AccessRequest

T = AccessRequest.__table__
CHANNELS = {"courrier": "courrier", "email": "email", "agence": "à l'agence", "telephone": "téléphone"}
NOTE_MAX = 2000


class AccessRequestError(ValueError):
    """A request that cannot be recorded as given (French message)."""


def due_on(received_on: date) -> date:
    return received_on + relativedelta(months=1)


@dataclass(frozen=True)
class Request:
    id: int
    client_id: str
    client_name: str
    agency_id: str | None
    received_on: date
    due_on: date
    channel: str
    note: str | None
    recorded_by: str
    recorded_at: datetime
    answered_at: datetime | None
    answered_by: str | None
    answer_note: str | None

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    def overdue(self, today: date) -> bool:
        return self.answered_at is None and self.due_on < today

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days


def record(conn: Connection, client_id: str, received_on: date, channel: str, note: str | None,
           actor: str, now: datetime, today: date) -> int:
    if conn.execute(select(CLIENT.c.id).where(CLIENT.c.id == client_id)).first() is None:
        raise AccessRequestError(f"client {client_id} introuvable")
    if channel not in CHANNELS:
        raise AccessRequestError(f"canal inconnu : {channel!r} ({', '.join(CHANNELS)})")
    if received_on > today:
        raise AccessRequestError("date de réception dans le futur")
    if received_on < today - relativedelta(years=1):
        raise AccessRequestError("date de réception de plus d'un an : vérifiez-la")
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise AccessRequestError(f"note trop longue ({NOTE_MAX} caractères au plus)")
    return conn.execute(insert(T).values(
        client_id=client_id, received_on=received_on, due_on=due_on(received_on), channel=channel, note=note,
        recorded_by=actor, recorded_at=now).returning(T.c.id)).scalar_one()


def answer(conn: Connection, request_id: int, actor: str, now: datetime, note: str | None = None) -> bool:
    """Mark the request answered; False when it does not exist or was already answered."""
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        raise AccessRequestError(f"note trop longue ({NOTE_MAX} caractères au plus)")
    res = conn.execute(update(T).where(T.c.id == request_id, T.c.answered_at.is_(None))
                       .values(answered_at=now, answered_by=actor, answer_note=note))
    return res.rowcount == 1


def _query():
    return (select(T, CLIENT.c.kind, CLIENT.c.first_name, CLIENT.c.last_name, CLIENT.c.company_name,
                   CLIENT.c.agency_id).join(CLIENT, CLIENT.c.id == T.c.client_id))


def _request(r) -> Request:
    return Request(r.id, r.client_id, client_display_name(r.kind, r.first_name, r.last_name, r.company_name,
                                                          r.client_id),
                   r.agency_id, r.received_on, r.due_on, r.channel, r.note, r.recorded_by, r.recorded_at,
                   r.answered_at, r.answered_by, r.answer_note)


def open_requests(conn: Connection, scope: str | None = None) -> list[Request]:
    stmt = _query().where(T.c.answered_at.is_(None)).order_by(T.c.due_on, T.c.id)
    if scope is not None:
        stmt = stmt.where(CLIENT.c.agency_id == scope)
    return [_request(r) for r in conn.execute(stmt)]


def of_client(conn: Connection, client_id: str) -> list[Request]:
    return [_request(r) for r in conn.execute(_query().where(T.c.client_id == client_id)
                                              .order_by(T.c.received_on.desc(), T.c.id.desc()))]
