"""Case lists and the case an advisor works: everything on one page, read in one connection."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select

from states import fiche, requirements
from states.decide import allowed_now
from states.lifecycle import EVENTS, STATE_LABELS, State
from api.queries.notes import notes_of, topic_views
from states.lateness import is_late
from states.people import advisor_display_name, client_display_name
from store.lateness import late_clause
from states.notes import HEALTH_REMINDER
from store.case_read import CaseRows, read_case
from store.snapshot import ADVISOR, CASE, CLIENT
from datetime import datetime, time, timedelta
from types import SimpleNamespace

from api.queries import appointments as appointment_queries
from api.queries import cohort_view
from api.queries import bilan as bilan_queries
from states.calendar import PARIS
from states.commands import APPOINTMENT_TOLERANCE

SORTS = {"due_date": CASE.c.due_date, "priority": CASE.c.priority, "state": CASE.c.state,
         "cohort_month": CASE.c.cohort_month, "id": CASE.c.id, "updated_at": CASE.c.updated_at}
SORT_KEYS = tuple(SORTS) + tuple(f"-{k}" for k in SORTS)


def label(state: str) -> str:
    try:
        return STATE_LABELS[State(state)]
    except ValueError:
        return state


# Built once: every write checks the case's agency, and building the statement and its cache
# key per call showed up at ~10 % of the server's CPU under load (bench/bench_api.py).
_AGENCY_OF = select(CASE.c.agency_id).where(CASE.c.id == bindparam("case_id"))


def agency_of(conn: Connection, case_id: int) -> str | None:
    return conn.execute(_AGENCY_OF, {"case_id": case_id}).scalar_one_or_none()


@dataclass(frozen=True)
class CaseFilter:
    scope: str | None = None  # the user's agency (None: every agency)
    state: list[str] | None = None
    agency: str | None = None
    advisor: int | None = None
    cohort_month: str | None = None
    late: bool | None = None  # en retard (states.lateness: open, not reached, past the window's end)
    overdue: bool | None = None  # the same definition, kept under its former name
    priority_min: int | None = None
    client_id: str | None = None
    caught_up: bool | None = None  # rattrapé: opened by the cohort's catch-up (column `late`)


def _where(f: CaseFilter, today: date) -> list:
    late = late_clause(today)
    conds = []
    if f.scope is not None:
        conds.append(CASE.c.agency_id == f.scope)
    if f.state:
        conds.append(CASE.c.state.in_(f.state))
    if f.agency is not None:
        conds.append(CASE.c.agency_id == f.agency)
    if f.advisor is not None:
        conds.append(CASE.c.assigned_advisor_id == f.advisor)
    if f.cohort_month is not None:
        conds.append(CASE.c.cohort_month == f.cohort_month)
    for wanted in (f.late, f.overdue):
        if wanted is not None:
            conds.append(late if wanted else ~late)
    if f.caught_up is not None:
        conds.append(CASE.c.late.is_(f.caught_up))
    if f.priority_min is not None:
        conds.append(CASE.c.priority >= f.priority_min)
    if f.client_id is not None:
        conds.append(CASE.c.client_id == f.client_id)
    return conds


def _order(sort: list[str]) -> list:
    return [SORTS[s.lstrip("-")].desc() if s.startswith("-") else SORTS[s].asc() for s in sort] + [CASE.c.id]


def page_ids_query(f: CaseFilter, sort: list[str], page: int, per_page: int, today: date) -> Select:
    """The page's case ids, from the case rows alone (every filter is a case column): with an
    index that matches the sort (store/tables.py) it reads per_page entries in order; without
    one it sorts narrow rows (docs/performance-pages.md; tests/integration/
    test_list_queries__plans_use_an_index.py checks the plans)."""
    return (select(CASE.c.id).where(*_where(f, today)).order_by(*_order(sort)).limit(per_page)
            .offset((page - 1) * per_page))


def list_cases(conn: Connection, f: CaseFilter, sort: list[str], page: int, per_page: int,
               today: date) -> tuple[int, list[dict[str, Any]]]:
    conds = _where(f, today)
    total = conn.execute(select(func.count()).select_from(CASE).where(*conds)).scalar_one()
    order = _order(sort)
    # Only the page's ids are sorted over the whole list; then the page's clients and advisors.
    page_ids = page_ids_query(f, sort, page, per_page, today).subquery("page")
    rows = conn.execute(
        select(CASE, CLIENT.c.kind, CLIENT.c.first_name, CLIENT.c.last_name, CLIENT.c.company_name,
               ADVISOR.c.name.label("advisor_name"), ADVISOR.c.first_name.label("advisor_first_name"),
               ADVISOR.c.last_name.label("advisor_last_name"))
        .select_from(page_ids.join(CASE, CASE.c.id == page_ids.c.id))
        .join(CLIENT, CLIENT.c.id == CASE.c.client_id)
        .outerjoin(ADVISOR, ADVISOR.c.id == CASE.c.assigned_advisor_id)
        .order_by(*order)
    ).all()
    return total, [_summary(r, today) for r in rows]


def _client_name(r) -> str:
    return client_display_name(r.kind, r.first_name, r.last_name, r.company_name, r.client_id)


def _summary(r, today: date) -> dict[str, Any]:
    late = is_late(r.state, r.window_end, today)
    advisor_name = advisor_display_name(r.advisor_first_name, r.advisor_last_name, r.advisor_name) \
        if r.advisor_name else None
    return {
        "id": r.id, "client_id": r.client_id, "client_name": _client_name(r), "client_kind": r.kind,
        "agency_id": r.agency_id, "cohort_month": r.cohort_month, "due_date": r.due_date,
        "window_start": r.window_start, "window_end": r.window_end, "state": r.state,
        "state_label": label(r.state), "assigned_advisor_id": r.assigned_advisor_id,
        "advisor_name": advisor_name, "priority": r.priority, "late": late, "caught_up": bool(r.late),
        "overdue": late,
        "escalation_step": r.escalation_step, "version": r.version,
        **cohort_view.window_fields(r.window_start, today),  # not callable before its window opens
    }


def _rows(rows: list) -> list[dict[str, Any]]:
    """Rows of a part as the detail shows them: every column but the case id."""
    return [{k: v for k, v in r._mapping.items() if k != "case_id"} for r in rows]


def case_detail(conn: Connection, case_id: int, today: date, now: datetime | None = None,
                tolerance: timedelta = APPOINTMENT_TOLERANCE) -> dict[str, Any] | None:
    """The case with its client checklist, contracts' checklists, work records and allowed events.

    `now` and `tolerance` derive the appointments' status (missed); without `now`, the start of
    `today` in Paris."""
    rows = read_case(conn, case_id)
    return None if rows is None else detail_of(conn, rows, today, now, tolerance)


def detail_of(conn: Connection, rows: CaseRows, today: date, now: datetime | None = None,
              tolerance: timedelta = APPOINTMENT_TOLERANCE) -> dict[str, Any]:
    """case_detail from the parts read_case read (each table once); notes and bilan records here."""
    row, snap, client = rows.case, rows.snapshot, rows.client
    case_id = row.id
    case = {k: v for k, v in rows.case_columns().items() if k not in ("audit_head",)}
    case["state_label"] = label(row.state)
    # late: en retard (states.lateness), computed; caught_up: rattrapé, the stored column `late`.
    case["caught_up"] = bool(row.late)
    case["late"] = case["overdue"] = is_late(row.state, row.window_end, today)
    case.update(cohort_view.window_fields(row.window_start, today))  # window_open, window_opens_on
    case["priority_detail"] = cohort_view.priority_detail(row.priority_parts, row.priority)  # its French-labelled parts
    topics = rows.topics_by_date()
    return {
        "case": case,
        "version": row.version,
        "client": {**{k: getattr(client, k) for k in client.__dataclass_fields__}, "kind": client.kind.value,
                   "display_name": client.display_name},
        "fiche": [{"field": i.field, "label": i.label, "ok": i.ok, "reason": i.reason}
                  for i in fiche.checklist(client, snap.assignment_confirmed)],
        "contracts": [{
            "id": k.id, "family": k.family.value, "product": k.product, "effective_date": k.effective_date,
            "active": k.active, "premium_eur": k.premium_eur, **cohort_view.product_fields(k.product),
            "requirements": [{"code": i.code, "label": i.label, "kind": i.kind, "status": i.status.value,
                              "satisfied": i.satisfied, "waiver_reason": i.waiver_reason}
                             for i in requirements.checklist(k, client.kind)],
        } for k in snap.contracts],
        "attempts": _rows(rows.attempts),
        "inventory": _rows(rows.inventory),
        "nothing_elsewhere": row.nothing_elsewhere,
        "outcomes": _rows(rows.outcomes),
        "actions": _rows(rows.actions),
        # Notes (newest first), claims and questions since the subscription, the call script (issue 7).
        "notes": notes_of(conn, case_id), "notes_reminder": HEALTH_REMINDER, "topics": topic_views(topics),
        "call_script": _call_script(rows, topics),
        "advisors": {str(a.id): {"name": a.name, "agency_id": a.agency_id, "active": a.active}
                     for a in snap.advisors.values()},
        "events": [{"event": e, "label": EVENTS[e].label, "to": EVENTS[e].dest.value, "can_fire": not unmet,
                    "unmet": [{"code": u.code, "message": u.message} for u in unmet]}
                   for e, unmet in allowed_now(snap).items()],
        **_appointments(rows, client.postal_code, now or datetime.combine(today, time(), PARIS), tolerance),
        # The bilan: situation, gap suggestions with their reasons and decisions, frozen records (docs/bilan.md).
        "bilan": bilan_queries.bilan_view(conn, snap),
    }


def _appointments(rows: CaseRows, postal_code: str | None, now: datetime,
                  tolerance: timedelta) -> dict[str, Any]:
    """`appointments` (oldest first, status as of now) and `next_appointment` (or None)."""
    def advisor_name(advisor_id: int | None) -> str | None:
        if advisor_id is None:
            return None
        a = rows.advisors.get(advisor_id)
        return advisor_display_name(a.first_name, a.last_name, a.name) if a else advisor_display_name(None, None, None)

    items = [appointment_queries.describe(r, advisor_name(r.advisor_id), postal_code, now, tolerance)
             for r in rows.appointments]
    return {"appointments": items, "next_appointment": appointment_queries.next_of(items)}


def _call_script(rows: CaseRows, topics: list) -> dict[str, Any] | None:
    """The call script from the rows already read (notifications.call_script.script_data reads the same)."""
    from notifications import call_script

    c = rows.client
    who = SimpleNamespace(id=rows.case.id, agency_id=rows.case.agency_id,
                          assigned_advisor_id=rows.case.assigned_advisor_id, kind=c.kind.value, civility=c.civility,
                          first_name=c.first_name, last_name=c.last_name, company_name=c.company_name,
                          insurance_contact=c.insurance_contact, client_id=c.id)
    data = call_script.build_data(who, rows.contracts_by_date(), rows.advisors, topics)
    script = call_script.for_data(data)
    return {k: script[k] for k in ("text", "source", "template", "error")}
