"""One case and all its parts for the case detail, each table read once (issue 10).

The case detail (GET /api/cases/{id} and the page /dossiers/{id}) shows the rows of each part and
the events allowed now, which the domain derives from a CaseSnapshot of the same parts. It used
to read the parts for the snapshot, then again for the rendering, then again for the call script
(25 statements for the JSON, 31 for the page, docs/performance-case-detail.md). Here each table
is read once, in one plain statement keyed by the case id, and both the snapshot and the
rendering are built from those rows.

Orders: each part is read in the order the detail shows it (by id, appointments by time); where
the domain or the call script wants another order, it is sorted here, in Python, from the same
rows (a few dozen at most).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select

from states.records import CaseSnapshot, ClientRecord
from store import snapshot as s
from store.snapshot import (
    ACTION, ADVISOR, APPOINTMENT, ATTEMPT, CASE, DECISION, INVENTORY, OUTCOME, TOPIC, case_row_with_client,
)

_BY_CASE = bindparam("case_id")
_BY_ID = {table.name: select(table).where(table.c.case_id == _BY_CASE).order_by(table.c.id)
          for table in (ATTEMPT, INVENTORY, OUTCOME, DECISION, TOPIC, ACTION)}
_APPOINTMENTS = (select(APPOINTMENT).where(APPOINTMENT.c.case_id == _BY_CASE)
                 .order_by(APPOINTMENT.c.at, APPOINTMENT.c.id))
_IDS = bindparam("ids", expanding=True)
_AGENCIES = bindparam("agencies", expanding=True)
_ADVISOR_ORDER = (ADVISOR.c.agency_id, ADVISOR.c.name)  # as the forms list them (api/queries/worklist.py)
_ADVISORS = select(ADVISOR).where(ADVISOR.c.id.in_(_IDS)).order_by(*_ADVISOR_ORDER)
# The page also offers the active advisors of the case's agency and of the user's: read in the
# same statement as the advisors the case names, so the advisor table is read once per page.
_ADVISORS_AND_OFFERS = select(ADVISOR).where(
    or_(ADVISOR.c.id.in_(_IDS), ADVISOR.c.active.is_(True) & ADVISOR.c.agency_id.in_(_AGENCIES))
).order_by(*_ADVISOR_ORDER)
_ADVISORS_AND_ALL_ACTIVE = select(ADVISOR).where(or_(ADVISOR.c.id.in_(_IDS), ADVISOR.c.active.is_(True))
                                                 ).order_by(*_ADVISOR_ORDER)


@dataclass(frozen=True)
class Offers:
    """Ask read_case for the advisors the page's forms offer: the active advisors of the case's
    agency and of `scope` (the user's agency; None: every agency)."""

    scope: str | None


@dataclass(frozen=True)
class CaseRows:
    case: Row  # the case's columns (and its client's, labelled client__*)
    client: ClientRecord
    contracts: list[Row]  # by id
    requirements: list[Row]
    attempts: list[Row]  # by id
    appointments: list[Row]  # by time, then id
    inventory: list[Row]
    outcomes: list[Row]
    decisions: list[Row]
    topics: list[Row]  # by id
    actions: list[Row]
    advisors: dict[int, Row]  # the case's advisor, the actions' owners, the sellers, the appointments' advisors
    offered: list[Row]  # with Offers: the active advisors of the requested agencies, by agency then name
    snapshot: CaseSnapshot  # every part of ALL_PARTS, for the events allowed now and the bilan

    def case_columns(self) -> dict[str, Any]:
        """The case row's own columns, by name, in the table's order."""
        m = self.case._mapping
        return {c.name: m[c.name] for c in CASE.c}

    def topics_by_date(self) -> list[Row]:
        """As the detail and the call script list them: in the order they occurred, then recorded."""
        return sorted(self.topics, key=lambda t: (t.occurred_on, t.id))

    def contracts_by_date(self) -> list[Row]:
        """As the call script names them: by effective date, then id."""
        return sorted(self.contracts, key=lambda k: (k.effective_date, k.id))

    def offered_in(self, scope: str | None) -> list[Row]:
        return [a for a in self.offered if scope is None or a.agency_id == scope]


def read_case(conn: Connection, case_id: int, offers: Offers | None = None) -> CaseRows | None:
    """The case and its parts (None when there is no such case): one statement per table."""
    row, client = case_row_with_client(conn, case_id)
    if row is None:
        return None
    if client is None:  # a case without its client row: let the plain query raise as it always did
        client = s.client_of(conn, row)
    key = {"case_id": case_id}
    contracts = s.contract_rows(conn, case_id)
    requirements = s.requirement_rows(conn, contracts)
    parts = {name: conn.execute(stmt, key).all() for name, stmt in _BY_ID.items()}
    appointments = conn.execute(_APPOINTMENTS, key).all()
    actions = parts[ACTION.name]
    named = {row.assigned_advisor_id, *(a.owner_id for a in actions)} - {None}  # those the snapshot carries
    wanted = named | {k.seller_id for k in contracts} | {a.advisor_id for a in appointments}
    wanted.discard(None)
    advisors, offered = _advisors(conn, sorted(wanted), row.agency_id, offers)
    snap = _snapshot(row, client, contracts, requirements, parts, appointments,
                     {i: s.advisor_record(advisors[i]) for i in sorted(named) if i in advisors})
    return CaseRows(row, client, contracts, requirements, parts[ATTEMPT.name], appointments, parts[INVENTORY.name],
                    parts[OUTCOME.name], parts[DECISION.name], parts[TOPIC.name], actions, advisors, offered, snap)


def _advisors(conn: Connection, ids: list[int], agency: str, offers: Offers | None) -> tuple[dict[int, Row], list]:
    if offers is None:
        rows = conn.execute(_ADVISORS, {"ids": ids}).all() if ids else []
        return {r.id: r for r in rows}, []
    if offers.scope is None:
        rows = conn.execute(_ADVISORS_AND_ALL_ACTIVE, {"ids": ids}).all()
    else:
        rows = conn.execute(_ADVISORS_AND_OFFERS, {"ids": ids, "agencies": sorted({agency, offers.scope})}).all()
    agencies = None if offers.scope is None else {agency, offers.scope}
    offered = [r for r in rows if r.active and (agencies is None or r.agency_id in agencies)]
    return {r.id: r for r in rows if r.id in ids}, offered


def _snapshot(row: Row, client: ClientRecord, contracts, requirements, parts: dict[str, list[Row]], appointments,
              advisors) -> CaseSnapshot:
    """The same snapshot as store.snapshot.snapshot(conn, row, ALL_PARTS, ...) builds from its own reads."""
    outcomes = tuple(s.outcome_record(r) for r in parts[OUTCOME.name])
    return s.snapshot_of(row, {
        "client": client,
        "contracts": s.contract_records(contracts, requirements),
        # The domain reads the attempts in time order (store.snapshot orders them by `at`).
        "attempts": tuple(s.attempt_record(r) for r in sorted(parts[ATTEMPT.name], key=lambda a: a.at)),
        "appointments": tuple(s.appointment_record(r) for r in appointments),
        "inventory": tuple(s.inventory_record(r) for r in parts[INVENTORY.name]),
        "outcomes": tuple(o.kind for o in outcomes),
        "outcome_records": outcomes,
        "decisions": tuple(s.decision_record(r) for r in parts[DECISION.name]),
        "topics": tuple(s.topic_record(r) for r in parts[TOPIC.name]),
        "actions": tuple(s.action_record(r) for r in parts[ACTION.name]),
    }, advisors)
