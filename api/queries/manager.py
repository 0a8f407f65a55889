"""What the manager's page reads: the cohort's figures per advisor, overdue cases, missed
appointments, the open cases to reassign, the advisors of the agency.

Every function takes `scope` (the user's agency, or None for every agency) and filters on the
case's agency, so a manager of Rouvière never reads a Corniche case. *En retard* is the one
definition of states/lateness.py, in its SQL form (store.lateness.late_clause).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from api.queries.stats import StatsFilter, compute
from api.queries.worklist import plain_rows
from states.appointments import STATUS_LABELS
from states.lateness import is_late
from states.lifecycle import STATE_LABELS, State
from states.people import client_display_name
from states.records import AppointmentStatus
from store.lateness import late_clause
from store.snapshot import ADVISOR, APPOINTMENT, CASE, CLIENT
from store.tables import Agency

AGENCY = Agency.__table__
# The open states by name (not `!= cloture`): an IN list can seek the (state, agency, ...) index.
OPEN = CASE.c.state.in_([s.value for s in State if s is not State.CLOTURE])
LIST_LIMIT = 300


def _scoped(stmt, scope: str | None, agency: str | None = None):
    for value in (scope, agency):
        if value is not None:
            stmt = stmt.where(CASE.c.agency_id == value)
    return stmt


def cohort_months(conn: Connection, scope: str | None) -> list[str]:
    rows = conn.execute(_scoped(select(CASE.c.cohort_month).distinct(), scope)
                        .order_by(CASE.c.cohort_month.desc())).scalars().all()
    return list(rows)


def agencies(conn: Connection, scope: str | None) -> list[dict[str, str]]:
    stmt = select(AGENCY.c.id, AGENCY.c.name).order_by(AGENCY.c.id)
    if scope is not None:
        stmt = stmt.where(AGENCY.c.id == scope)
    return [{"id": r.id, "name": r.name} for r in conn.execute(stmt)]


@dataclass(frozen=True)
class AdvisorLine:
    id: int
    name: str
    agency_id: str
    active: bool
    open_cases: int


def advisors(conn: Connection, scope: str | None, agency: str | None = None) -> list[AdvisorLine]:
    """The advisors of the agency (active first), with their open cases (counted per advisor in
    the (advisor, state) index, not by grouping every case)."""
    n_open = (select(func.count()).select_from(CASE)
              .where(CASE.c.assigned_advisor_id == ADVISOR.c.id, OPEN).scalar_subquery())
    stmt = (select(ADVISOR.c.id, ADVISOR.c.name, ADVISOR.c.agency_id, ADVISOR.c.active, n_open)
            .order_by(ADVISOR.c.active.desc(), ADVISOR.c.agency_id, ADVISOR.c.name))
    for value in (scope, agency):
        if value is not None:
            stmt = stmt.where(ADVISOR.c.agency_id == value)
    return [AdvisorLine(*r) for r in conn.execute(stmt)]


def dashboard(conn: Connection, scope: str | None, month: str | None, agency: str | None = None) -> dict[str, Any]:
    """The cohort's figures (api/queries/stats.py), with the groups summed per advisor."""
    data = compute(conn, StatsFilter(scope=scope, cohort_month=month, agency=agency))
    per: dict[Any, dict[str, Any]] = {}
    for g in data["groups"]:
        key = g["advisor_id"]
        row = per.setdefault(key, {"advisor_id": key, "name": g["advisor_name"] or "Non attribué",
                                   "cases": 0, "reached": 0, "on_time": 0, "by_state": defaultdict(int)})
        row["cases"] += g["cases"]
        row["reached"] += g["reached"]
        row["on_time"] += g["on_time"]
        for state, n in g["by_state"].items():
            row["by_state"][state] += n
    rows = sorted(per.values(), key=lambda r: (-r["cases"], r["name"]))
    for r in rows:
        r["reach_rate"] = round(r["reached"] / r["cases"], 4) if r["cases"] else None
        r["on_time_rate"] = round(r["on_time"] / r["reached"], 4) if r["reached"] else None
        r["by_state"] = dict(r["by_state"])
    return {"totals": data["totals"], "advisors": rows}


def _name(r) -> str:
    return client_display_name(r.kind, r.first_name, r.last_name, r.company_name, r.client_id)


_CASE_COLUMNS = (CASE.c.id, CASE.c.version, CASE.c.state, CASE.c.window_start, CASE.c.window_end,
                 CASE.c.cohort_month, CASE.c.escalation_step, CASE.c.agency_id, CASE.c.assigned_advisor_id,
                 CASE.c.priority, CLIENT.c.id.label("client_id"), CLIENT.c.kind, CLIENT.c.first_name,
                 CLIENT.c.last_name, CLIENT.c.company_name, ADVISOR.c.name.label("advisor_name"),
                 ADVISOR.c.active.label("advisor_active"))


def _case_line(r, today: date) -> dict[str, Any]:
    return {"id": r.id, "version": r.version, "state": r.state, "state_label": STATE_LABELS[State(r.state)],
            "window_start": r.window_start, "window_end": r.window_end, "cohort_month": r.cohort_month,
            "escalation_step": r.escalation_step, "agency_id": r.agency_id, "advisor_id": r.assigned_advisor_id,
            "advisor_name": r.advisor_name or "Non attribué", "advisor_active": bool(r.advisor_active),
            "client_name": _name(r), "client_id": r.client_id, "priority": r.priority,
            "late": is_late(r.state, r.window_end, today),
            "days_late": (today - r.window_end).days if is_late(r.state, r.window_end, today) else 0}


_BY_WINDOW = (CASE.c.window_end, CASE.c.priority.desc(), CASE.c.id)  # ix_case_agency_window's order


def _cases(scope: str | None, agency: str | None, cond: list, limit: int):
    """The first `limit` cases in window order: their ids from the case rows alone (the index of
    that order), then their clients and advisors."""
    page = _scoped(select(CASE.c.id).where(*cond), scope, agency).order_by(*_BY_WINDOW).limit(limit).subquery("page")
    return (select(*_CASE_COLUMNS).select_from(page.join(CASE, CASE.c.id == page.c.id))
            .join(CLIENT, CLIENT.c.id == CASE.c.client_id)
            .outerjoin(ADVISOR, ADVISOR.c.id == CASE.c.assigned_advisor_id).order_by(*_BY_WINDOW))


def overdue(conn: Connection, scope: str | None, today: date, agency: str | None = None,
            limit: int = LIST_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """The late cases, the longest overdue first, and how many there are in all."""
    total = conn.execute(_scoped(select(func.count()).select_from(CASE).where(late_clause(today)), scope, agency)
                         ).scalar_one()
    rows = conn.execute(_cases(scope, agency, [late_clause(today)], limit))
    return [_case_line(r, today) for r in plain_rows(rows)], total


def open_cases(conn: Connection, scope: str | None, today: date, *, advisor: int | None = None,
               unassigned: bool = False, late_only: bool = False, agency: str | None = None,
               limit: int = LIST_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """Open cases to reassign: one advisor's (or the unassigned ones), late only on demand."""
    cond = [OPEN]
    if advisor is not None:
        cond.append(CASE.c.assigned_advisor_id == advisor)
    elif unassigned:
        cond.append(CASE.c.assigned_advisor_id.is_(None))
    if late_only:
        cond.append(late_clause(today))
    total = conn.execute(_scoped(select(func.count()).select_from(CASE).where(*cond), scope, agency)).scalar_one()
    rows = conn.execute(_cases(scope, agency, cond, limit))
    return [_case_line(r, today) for r in plain_rows(rows)], total


def missed_appointments(conn: Connection, scope: str | None, now: datetime, tolerance: timedelta,
                        agency: str | None = None, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """Appointments still scheduled whose time plus the tolerance has passed with no call
    recorded against them (states.appointments.status_at), on open cases."""
    cutoff = now - tolerance
    stmt = (select(APPOINTMENT.c.id.label("appointment_id"), APPOINTMENT.c.at, APPOINTMENT.c.channel,
                   CASE.c.id, CASE.c.state, CLIENT.c.id.label("client_id"), CLIENT.c.kind, CLIENT.c.first_name,
                   CLIENT.c.last_name, CLIENT.c.company_name, ADVISOR.c.name.label("advisor_name"))
            .join(CASE, CASE.c.id == APPOINTMENT.c.case_id).join(CLIENT, CLIENT.c.id == CASE.c.client_id)
            .outerjoin(ADVISOR, ADVISOR.c.id == func.coalesce(APPOINTMENT.c.advisor_id, CASE.c.assigned_advisor_id))
            .where(and_(APPOINTMENT.c.status == AppointmentStatus.SCHEDULED.value, APPOINTMENT.c.at < cutoff, OPEN))
            .order_by(APPOINTMENT.c.at.desc()).limit(limit))
    return [{"appointment_id": r.appointment_id, "at": r.at, "channel": r.channel, "case_id": r.id,
             "state_label": STATE_LABELS[State(r.state)], "client_name": _name(r),
             "advisor_name": r.advisor_name or "Non attribué",
             "status_label": STATUS_LABELS[AppointmentStatus.MISSED]}
            for r in conn.execute(_scoped(stmt, scope, agency))]


def versions(conn: Connection, case_ids: list[int]) -> dict[int, tuple[int, str]]:
    """case id -> (version, agency): what a bulk action needs to check and run each case."""
    if not case_ids:
        return {}
    rows = conn.execute(select(CASE.c.id, CASE.c.version, CASE.c.agency_id).where(CASE.c.id.in_(case_ids)))
    return {r.id: (r.version, r.agency_id) for r in rows}
