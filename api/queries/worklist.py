""""Mes dossiers": the cases a user works today, in the order of the day.

An advisor's own open cases by default (a few hundred at most), read in five statements (the
cases with their clients, then their attempts, appointments, overdue actions and contracts,
each by the list of case ids), then grouped in Python, because the groups depend on rules that
live in `states/` (D223-9 in the client's time zone, the contact window, *en retard*):

1. today's appointments, by time;
2. the cases that may be called now (window open, D223-9 allows a solicitation now);
3. the others, each with the next moment it may be called.

Within 2 and 3: priority (highest first), then the end of the window (soonest first).
A search is one more condition of the same statements: the client's folded keys and the case's
numbers, in SQL (api/queries/search.py: accents, capitals and phone spacing ignored), so an
agency-wide search reads only the cases it finds (docs/performance-pages.md).
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, bindparam, false, func, or_, select, union

from api.queries.cases import label
from api.queries.search import Terms
from states.appointments import status_at
from states.calendar import PARIS, client_timezone, territory
from states.calling_rules import next_allowed_slot
from states.calls import refusals_of
from states.lateness import is_late
from states.lifecycle import OPEN_STATES, State
from states.people import advisor_display_name, client_display_name
from states.records import (
    AppointmentStatus, AttemptOutcome, AttemptRecord, CallBasis, Channel, ClientKind,
    Direction,
)
from store.id_lists import in_ids
from store.snapshot import ACTION, ADVISOR, APPOINTMENT, ATTEMPT, CASE, CASE_CONTRACT, CLIENT, CONTRACT

LIMIT = 500
OPEN_VALUES = tuple(s.value for s in OPEN_STATES)


@dataclass(frozen=True)
class Filters:
    scope: str | None  # the user's agency, None for every agency
    advisor: int | None = None  # only this advisor's cases (None: every advisor in scope)
    agency: str | None = None
    states: tuple[str, ...] = ()  # none: the open states
    late: bool = False
    q: str | None = None


@dataclass
class Item:
    """One case as the list shows it."""

    id: int
    version: int
    client_name: str
    client_kind: str
    phone: str | None
    state: str
    state_label: str
    priority: int
    due_date: date
    window_start: date
    window_end: date
    agency_id: str
    advisor_name: str | None
    products: list[str] = field(default_factory=list)
    late: bool = False
    caught_up: bool = False
    window_not_open: bool = False
    escalation_step: int = 0
    overdue_actions: int = 0
    appointment_today: datetime | None = None  # in the client's time zone
    appointment_today_status: str | None = None
    next_appointment: datetime | None = None  # in the client's time zone
    callable_now: bool = False
    refusals: list[str] = field(default_factory=list)  # why not now
    next_slot: datetime | None = None  # in the client's time zone
    client_tz: str = "Europe/Paris"


@dataclass
class Worklist:
    appointments: list[Item]
    callable: list[Item]
    others: list[Item]
    total: int
    truncated: bool

    @property
    def count(self) -> int:
        return len(self.appointments) + len(self.callable) + len(self.others)


def _conditions(f: Filters, today: date) -> list:
    conds = [CASE.c.state.in_(f.states or OPEN_VALUES)]
    if f.scope is not None:
        conds.append(CASE.c.agency_id == f.scope)
    if f.agency is not None:
        conds.append(CASE.c.agency_id == f.agency)
    if f.advisor is not None:
        conds.append(CASE.c.assigned_advisor_id == f.advisor)
    if f.late:
        from store.lateness import late_clause
        conds.append(late_clause(today))
    return conds


_CHANNEL, _OUTCOME, _DIRECTION, _BASIS = ({m.value: m for m in e} for e in (Channel, AttemptOutcome, Direction, CallBasis))
# By the page's case ids: one array on PostgreSQL, an IN list on SQLite (store/id_lists.py).
_ATTEMPTS = select(ATTEMPT).where(in_ids(ATTEMPT.c.case_id)).order_by(ATTEMPT.c.at)
_CONTRACTS = (select(CASE_CONTRACT.c.case_id, CONTRACT.c.id, CONTRACT.c.product)
              .join(CONTRACT, CONTRACT.c.id == CASE_CONTRACT.c.contract_id)
              .where(in_ids(CASE_CONTRACT.c.case_id)).order_by(CONTRACT.c.id))
_APPOINTMENTS = (select(APPOINTMENT.c.case_id, APPOINTMENT.c.at, APPOINTMENT.c.status)
                 .where(in_ids(APPOINTMENT.c.case_id), APPOINTMENT.c.at >= bindparam("day_start"),
                        APPOINTMENT.c.status != AppointmentStatus.CANCELLED.value)
                 .order_by(APPOINTMENT.c.at))
_OVERDUE_ACTIONS = (select(ACTION.c.case_id, func.count())
                    .where(in_ids(ACTION.c.case_id), ACTION.c.status == "open", ACTION.c.due_date < bindparam("today"))
                    .group_by(ACTION.c.case_id))


def plain_rows(result) -> list:
    """The rows as plain named tuples: SQLAlchemy's Row answers an attribute in ~3 µs on this
    machine, and a list of a few hundred cases reads ~35 of them per case (docs/performance-pages.md)."""
    cls = namedtuple("Row", result.keys())
    return [cls._make(t) for t in result.tuples()]


def _found(conds: list, terms: Terms):
    """The ids of the cases the filters select that match the search: those of the clients whose
    folded keys match (found in the client index first), and those whose own numbers do."""
    parts = []
    by_client = terms.client_clauses()
    if by_client:
        clients = select(CLIENT.c.id).where(or_(*by_client))
        parts.append(select(CASE.c.id).where(*conds, CASE.c.client_id.in_(clients)))
    by_number = terms.case_number_clauses()
    if by_number:
        parts.append(select(CASE.c.id).where(*conds, or_(*by_number)))
    if not parts:
        return select(CASE.c.id).where(false())
    return parts[0] if len(parts) == 1 else union(*parts)


def load(conn: Connection, f: Filters, now: datetime, detail: int | None = None) -> Worklist:
    """The list; `detail`: how many of the "others" get their next allowed slot (the ones a
    page shows; None: all)."""
    today = now.astimezone(PARIS).date()
    conds = _conditions(f, today)
    terms = Terms.parse(f.q)
    if terms is not None:
        found = _found(conds, terms)
        ids = conn.execute(found).scalars().all()  # read once: the count and the page both need them
        total = len(ids)
        conds = [CASE.c.id.in_(ids if total <= 5000 else found)]  # a bounded IN list of parameters
    else:
        total = conn.execute(select(func.count()).select_from(CASE).where(*conds)).scalar_one()
    rows = conn.execute(
        select(CASE.c.id, CASE.c.version, CASE.c.client_id, CASE.c.state, CASE.c.priority, CASE.c.due_date,
               CASE.c.window_start, CASE.c.window_end, CASE.c.agency_id, CASE.c.escalation_step, CASE.c.late,
               CASE.c.reached_at, CASE.c.created_at, CLIENT.c.kind, CLIENT.c.first_name, CLIENT.c.last_name,
               CLIENT.c.company_name, CLIENT.c.phone, CLIENT.c.postal_code, CLIENT.c.opposition_phone,
               ADVISOR.c.name.label("advisor_name"), ADVISOR.c.first_name.label("advisor_first"),
               ADVISOR.c.last_name.label("advisor_last"))
        .join(CLIENT, CLIENT.c.id == CASE.c.client_id)
        .outerjoin(ADVISOR, ADVISOR.c.id == CASE.c.assigned_advisor_id)
        .where(*conds).order_by(CASE.c.priority.desc(), CASE.c.window_end, CASE.c.id).limit(LIMIT)
    )
    rows = plain_rows(rows)
    ids = [r.id for r in rows]
    attempts: dict[int, list[AttemptRecord]] = {}
    appointments: dict[int, list[Any]] = {}
    overdue: dict[int, int] = {}
    products: dict[int, list[str]] = {}
    if ids:
        for a in plain_rows(conn.execute(_ATTEMPTS, {"ids": ids})):
            attempts.setdefault(a.case_id, []).append(AttemptRecord(  # enum lookups by value: Enum() is slow
                _CHANNEL[a.channel], a.at, _OUTCOME[a.outcome], _DIRECTION[a.direction],
                _BASIS[a.basis] if a.basis else None, a.appointment_id))
        day_start = datetime.combine(today, time(0), PARIS)
        for ap in conn.execute(_APPOINTMENTS, {"ids": ids, "day_start": day_start}):
            appointments.setdefault(ap.case_id, []).append(ap)
        for case_id, n in conn.execute(_OVERDUE_ACTIONS, {"ids": ids, "today": today}):
            overdue[case_id] = n
        for case_id, _contract_id, product in conn.execute(_CONTRACTS, {"ids": ids}):
            products.setdefault(case_id, []).append(product)
    memo: dict[tuple, list[str]] = {}
    items = [_item(r, attempts.get(r.id, []), appointments.get(r.id, []), overdue.get(r.id, 0),
                   products.get(r.id, []), now, today, memo) for r in rows]
    wl = _group(items, total, truncated=total > len(items))
    _next_slots(wl.others if detail is None else wl.others[:detail], {r.id: r for r in rows}, attempts, now)
    return wl


def _item(r, attempts: list[AttemptRecord], appointments: list, overdue: int, products: list[str],
          now: datetime, today: date, memo: dict) -> Item:
    tz = client_timezone(r.postal_code)
    item = Item(
        id=r.id, version=r.version,
        client_name=client_display_name(r.kind, r.first_name, r.last_name, r.company_name, r.client_id),
        client_kind=r.kind, phone=r.phone, state=r.state, state_label=label(r.state), priority=r.priority,
        due_date=r.due_date, window_start=r.window_start, window_end=r.window_end, agency_id=r.agency_id,
        advisor_name=advisor_display_name(r.advisor_first, r.advisor_last, r.advisor_name) if r.advisor_name else None,
        products=products, late=is_late(r.state, r.window_end, today),
        caught_up=bool(r.late), window_not_open=today < r.window_start, escalation_step=r.escalation_step,
        overdue_actions=overdue, client_tz=tz.key,
    )
    for ap in appointments:
        local = ap.at.astimezone(tz)
        if ap.at.astimezone(PARIS).date() == today and item.appointment_today is None:
            item.appointment_today = local
            item.appointment_today_status = status_at(ap.status, ap.at, now).value
        if ap.status == AppointmentStatus.SCHEDULED.value and ap.at >= now and item.next_appointment is None:
            item.next_appointment = local
    if r.state == State.CLOTURE.value:
        item.refusals = ["dossier clôturé"]
        return item
    # Without attempts, the rules' answer depends only on the client's kind and territory, the
    # opposition and whether the window is open yet: computed once per list for all such cases
    # (most of an advisor's), the same function deciding (states.calls.refusals_of).
    key = None if attempts else (r.kind, territory(r.postal_code), bool(r.opposition_phone),
                                 r.window_start if item.window_not_open else None)
    if key is not None and key in memo:
        item.refusals = list(memo[key])
    else:
        item.refusals = refusals_of(ClientKind(r.kind), r.postal_code, bool(r.opposition_phone), r.window_start,
                                    attempts, now)
        if key is not None:
            memo[key] = list(item.refusals)
    item.callable_now = not item.refusals
    return item


def _next_slots(items: list[Item], rows: dict, attempts: dict[int, list[AttemptRecord]], now: datetime) -> None:
    """The next moment each of `items` may be called (those the page shows: the list computes
    it for what it displays). Cases without attempts share it with every case of the same kind,
    territory and start: computed once."""
    slots: dict[tuple, datetime | None] = {}
    for item in items:
        r = rows[item.id]
        if item.callable_now or r.opposition_phone or r.state == State.CLOTURE.value:
            continue
        tz = client_timezone(r.postal_code)
        kind = ClientKind(r.kind)
        start = max(now, datetime.combine(r.window_start, time(0), tz))
        mine = attempts.get(item.id, [])
        key = (kind, territory(r.postal_code), start) if not mine else None
        if key is not None and key in slots:
            item.next_slot = slots[key]
        else:
            item.next_slot = next_allowed_slot(kind, r.postal_code, start, mine)
            if key is not None:
                slots[key] = item.next_slot


def _group(items: list[Item], total: int, truncated: bool) -> Worklist:
    today_appts = sorted((i for i in items if i.appointment_today is not None), key=lambda i: i.appointment_today)
    rest = [i for i in items if i.appointment_today is None]
    order = lambda i: (-i.priority, i.window_end, i.id)  # noqa: E731
    return Worklist(today_appts, sorted((i for i in rest if i.callable_now), key=order),
                    sorted((i for i in rest if not i.callable_now), key=order), total, truncated)


def advisors_of(conn: Connection, scope: str | None) -> list[dict[str, Any]]:
    """The active advisors a filter or a form may offer (the user's agency, or all)."""
    q = select(ADVISOR.c.id, ADVISOR.c.name, ADVISOR.c.first_name, ADVISOR.c.last_name, ADVISOR.c.agency_id
               ).where(ADVISOR.c.active.is_(True))
    if scope is not None:
        q = q.where(ADVISOR.c.agency_id == scope)
    return offered(conn.execute(q.order_by(ADVISOR.c.agency_id, ADVISOR.c.name)))


def offered(rows) -> list[dict[str, Any]]:
    """Advisor rows (active, by agency then name) as the filters and forms offer them."""
    return [{"id": r.id, "name": advisor_display_name(r.first_name, r.last_name, r.name), "agency_id": r.agency_id}
            for r in rows]


def agencies(conn: Connection) -> list[dict[str, Any]]:
    from store.tables import Agency

    t = Agency.__table__
    return [dict(r._mapping) for r in conn.execute(select(t.c.id, t.c.name).order_by(t.c.id))]
