"""Advisors from the command line: list, add, move to the other agency, (de)activate.

An advisor is never deleted: cases, contracts and the audit trail refer to it. Deactivating
keeps those links; who takes over its open cases is the assignment's business, not this one.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from store.advisor_directory import name_key
from store.tables import Advisor, Agency, Client

_T = Advisor.__table__


class AdvisorError(ValueError):
    """A message for agency staff, in French."""


@dataclass(frozen=True)
class AdvisorRow:
    id: int
    name: str
    agency_id: str
    email: str | None
    active: bool
    clients: int


def agency_id(conn: Connection, text: str) -> str:
    """'Rouvière', 'rouviere', 'ROUVIERE' → 'rouviere'."""
    from store.import_rows import fold

    for aid, name in conn.execute(select(Agency.id, Agency.name)).all():
        if fold(text) in (fold(aid), fold(name)):
            return aid
    raise AdvisorError(f"agence inconnue : {text!r}")


def find(conn: Connection, name_or_id: str) -> AdvisorRow:
    rows = list_advisors(conn)
    if name_or_id.strip().isdigit():
        match = [r for r in rows if r.id == int(name_or_id)]
    else:
        match = [r for r in rows if name_key(r.name) == name_key(name_or_id)]
    if not match:
        raise AdvisorError(f"conseiller inconnu : {name_or_id!r}")
    return match[0]


def list_advisors(conn: Connection, agency: str | None = None) -> list[AdvisorRow]:
    clients = (select(Client.advisor_id, func.count().label("n")).group_by(Client.advisor_id).subquery())
    stmt = (select(_T.c.id, _T.c.name, _T.c.agency_id, _T.c.email, _T.c.active, func.coalesce(clients.c.n, 0))
            .outerjoin(clients, clients.c.advisor_id == _T.c.id).order_by(_T.c.agency_id, _T.c.name))
    if agency:
        stmt = stmt.where(_T.c.agency_id == agency_id(conn, agency))
    return [AdvisorRow(*row) for row in conn.execute(stmt).all()]


def add(conn: Connection, name: str, agency: str, email: str | None = None) -> AdvisorRow:
    name = " ".join(name.split())
    if not name:
        raise AdvisorError("nom manquant")
    if any(name_key(r.name) == name_key(name) for r in list_advisors(conn)):
        raise AdvisorError(f"le conseiller {name!r} existe déjà")
    new_id = conn.execute(insert(_T).values(name=name, agency_id=agency_id(conn, agency), email=email,
                                            active=True).returning(_T.c.id)).scalar_one()
    return find(conn, str(new_id))


def move(conn: Connection, name_or_id: str, agency: str) -> AdvisorRow:
    advisor = find(conn, name_or_id)
    conn.execute(update(_T).where(_T.c.id == advisor.id).values(agency_id=agency_id(conn, agency)))
    return find(conn, str(advisor.id))


def set_active(conn: Connection, name_or_id: str, active: bool) -> AdvisorRow:
    advisor = find(conn, name_or_id)
    conn.execute(update(_T).where(_T.c.id == advisor.id).values(active=active))
    return find(conn, str(advisor.id))


def set_email(conn: Connection, name_or_id: str, email: str) -> AdvisorRow:
    """The address digests and reminders go to; validated, stored normalised."""
    from states.validators import validate_email_address

    advisor = find(conn, name_or_id)
    normalised, reason = validate_email_address(email)
    if reason:
        raise AdvisorError(reason)
    conn.execute(update(_T).where(_T.c.id == advisor.id).values(email=normalised))
    return find(conn, str(advisor.id))

