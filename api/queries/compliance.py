"""What the compliance page reads: find a client or a case, and everything shown about one client.

Search follows api/queries/search.py (the one behaviour of every search box): case and accents
ignored ("helene" finds Hélène), a phone however it is typed ("06 12 34 56 78"), a client,
contract or case number. All of it in SQL: names and phones on the client's folded keys
(`client.search_name`, `client.search_phone`, kept by the write path and the import), which a
trigram index serves on PostgreSQL and a narrow index scan on SQLite (docs/performance-pages.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, or_, select

from api.queries.search import Terms, national_digits
from states.lifecycle import STATE_LABELS, State
from states.people import client_display_name
from store.snapshot import ADVISOR, CASE, CLIENT, CONTRACT

RESULT_LIMIT = 50


@dataclass(frozen=True)
class Hit:
    client_id: str
    name: str
    kind: str
    agency_id: str
    phone: str | None
    email: str | None
    cases: list[dict[str, Any]]


def _cases_of(conn: Connection, client_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if not client_ids:
        return out
    rows = conn.execute(select(CASE.c.id, CASE.c.client_id, CASE.c.state, CASE.c.cohort_month, CASE.c.agency_id,
                               CASE.c.closing_reason, ADVISOR.c.name.label("advisor_name"))
                        .outerjoin(ADVISOR, ADVISOR.c.id == CASE.c.assigned_advisor_id)
                        .where(CASE.c.client_id.in_(client_ids)).order_by(CASE.c.id.desc()))
    for r in rows:
        out.setdefault(r.client_id, []).append({
            "id": r.id, "state": r.state, "state_label": STATE_LABELS[State(r.state)], "cohort_month": r.cohort_month,
            "agency_id": r.agency_id, "advisor_name": r.advisor_name, "closing_reason": r.closing_reason})
    return out


def search(conn: Connection, q: str | None, scope: str | None = None,
           limit: int = RESULT_LIMIT) -> tuple[list[Hit], bool] | None:
    """(the clients found, with their cases; whether there were more than `limit`), or None for no query."""
    terms = Terms.parse(q)
    if terms is None:
        return None
    found: list[str] = []

    def add(ids) -> None:
        for cid in ids:
            if cid not in found:
                found.append(cid)

    raw = terms.raw.strip()
    # Numbers: a case number, a client or contract id (exact, any case).
    if raw.isdigit() and len(raw) <= 9:
        add(conn.execute(select(CASE.c.client_id).where(CASE.c.id == int(raw))).scalars())
    if terms.number_like:  # every client and contract number has a digit: a name is not looked for there
        upper = raw.upper()
        add(conn.execute(select(CLIENT.c.id).where(func.upper(CLIENT.c.id) == upper)).scalars())
        add(conn.execute(select(CONTRACT.c.client_id).where(func.upper(CONTRACT.c.id) == upper)).scalars())
    # Phones and names: the folded keys (the whole number, 6+ of its digits; every word of a name).
    if terms.phone:
        add(conn.execute(select(CLIENT.c.id).where(CLIENT.c.search_phone == national_digits(terms.phone))
                         .limit(limit + 1)).scalars())
    elif len(terms.phone_digits) >= 6:
        add(conn.execute(select(CLIENT.c.id).where(or_(*terms.phone_clauses()))
                         .order_by(CLIENT.c.search_phone, CLIENT.c.id).limit(limit + 1)).scalars())
    name = terms.name_clause()
    if len(terms.text) >= 2 and not terms.digits and name is not None:
        add(conn.execute(select(CLIENT.c.id).where(name).order_by(CLIENT.c.search_name, CLIENT.c.id)
                         .limit(limit + 1)).scalars())
        if "@" in raw:  # an email address, whole (any case)
            add(conn.execute(select(CLIENT.c.id).where(func.lower(CLIENT.c.email) == raw.lower())
                             .limit(limit + 1)).scalars())
    if not found:
        return [], False
    more = len(found) > limit
    ids = found[:limit]
    stmt = select(CLIENT.c.id, CLIENT.c.kind, CLIENT.c.first_name, CLIENT.c.last_name, CLIENT.c.company_name,
                  CLIENT.c.agency_id, CLIENT.c.phone, CLIENT.c.email).where(CLIENT.c.id.in_(ids))
    if scope is not None:
        stmt = stmt.where(CLIENT.c.agency_id == scope)
    rows = {r.id: r for r in conn.execute(stmt)}
    cases = _cases_of(conn, list(rows))
    hits = [Hit(cid, client_display_name(r.kind, r.first_name, r.last_name, r.company_name, cid), r.kind,
                r.agency_id, r.phone, r.email, cases.get(cid, []))
            for cid in ids if (r := rows.get(cid)) is not None]
    return hits, more


def client(conn: Connection, client_id: str) -> dict[str, Any] | None:
    r = conn.execute(select(CLIENT, ADVISOR.c.name.label("advisor_name"))
                     .outerjoin(ADVISOR, ADVISOR.c.id == CLIENT.c.advisor_id).where(CLIENT.c.id == client_id)).first()
    if r is None:
        return None
    contracts = [dict(x._mapping) for x in conn.execute(
        select(CONTRACT.c.id, CONTRACT.c.family, CONTRACT.c.product, CONTRACT.c.effective_date, CONTRACT.c.status)
        .where(CONTRACT.c.client_id == client_id).order_by(CONTRACT.c.effective_date, CONTRACT.c.id))]
    return {"id": r.id, "name": client_display_name(r.kind, r.first_name, r.last_name, r.company_name, r.id),
            "kind": r.kind, "agency_id": r.agency_id, "advisor_name": r.advisor_name, "phone": r.phone,
            "email": r.email, "address": r.address, "postal_code": r.postal_code, "city": r.city,
            "opposition_phone": r.opposition_phone, "opposition_email": r.opposition_email,
            "opposition_letter": r.opposition_letter, "contracts": contracts,
            "cases": _cases_of(conn, [client_id]).get(client_id, [])}


def case_client(conn: Connection, case_id: int) -> str | None:
    return conn.execute(select(CASE.c.client_id).where(CASE.c.id == case_id)).scalar_one_or_none()
