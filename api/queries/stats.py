"""Figures per cohort month, agency and advisor (domain.md, "Figures agencies track").

reach rate          cases whose client was reached / cases
on-time rate        cases reached inside the contact window / cases reached
documents           signatures and documents satisfied (received, validated, waived) / required
opportunities       bilan outcomes "complementary_need"; outcomes and actions by kind and status
conversion          proposal -> devis -> signed (domain.md): devis proposed (a cancelled one never sent
                    does not count), sent to the client (envoyé, signé, refusé), signed; with the
                    rates sent/proposed, signed/sent and signed/proposed
late                cases en retard on the day asked (states.lateness: open, not reached, past
                    the window's end), the digests' definition; caught_up: cases rattrapés
multi-equipment     among cases whose bilan is done: clients with >= 2 contract families, before
                    (the families of the client's active contracts when the case opened, frozen
                    then in `families_before`: a later cancellation does not rewrite it) and
                    after (all active contracts now: what the bilan led to)

Counted in the database: three GROUP BY statements over the filtered cases, grouped by
(cohort month, agency, advisor), read in that order from the index ix_case_agency_cohort so
nothing is sorted, and Python adds up a few hundred rows, never one per case
(docs/performance-pages.md; before: every case, outcome, action and requirement read into
Python, 5.7 s for an agency). Two figures need rules that live in Python, kept exact:
- documents: each case's checklists counted on its row (`documents_required`,
  `documents_satisfied`), kept by the write path, the cohort and the import
  (store/completeness.py): here a SUM;
- on time: the day the client was reached, in Paris. PostgreSQL converts in SQL (AT TIME
  ZONE). SQLite has no time zones, but Paris is UTC+1 or UTC+2, which decides the day only
  for a call at 22:xx UTC on the window's last day or the day before it: those rare cases are
  counted in Python with zoneinfo, all others in SQL (`_on_time`).
Outcomes and actions are counted per value of their (closed) lists of kinds and statuses in
the same pass; a value outside those lists, should one be stored, is counted by a second query.
The SQL form equals the former Python one on a seeded book, on both databases
(tests/integration/test_stats__sql_matches_python.py).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, and_, case, cast, func, or_, select

from states.calendar import PARIS
from states.records import ActionKind, ActionStatus, OutcomeKind
from store.lateness import late_clause
from store.snapshot import ACTION, ADVISOR, CASE, CONTRACT, OUTCOME

_PARIS = PARIS  # states.calendar: the one place
KEYS = (CASE.c.cohort_month, CASE.c.agency_id, CASE.c.assigned_advisor_id)


@dataclass(frozen=True)
class StatsFilter:
    scope: str | None = None
    cohort_month: str | None = None
    agency: str | None = None
    advisor: int | None = None


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _case_ids(f: StatsFilter):
    conds = []
    for col, value in ((CASE.c.agency_id, f.scope), (CASE.c.cohort_month, f.cohort_month),
                       (CASE.c.agency_id, f.agency), (CASE.c.assigned_advisor_id, f.advisor)):
        if value is not None:
            conds.append(col == value)
    return conds


def _count(cond) -> Any:
    return func.sum(case((cond, 1), else_=0))


def _on_time(conn: Connection):
    """(reached inside the window, in Paris days, as SQL; the rows that condition leaves to Python).

    PostgreSQL converts in SQL (AT TIME ZONE 'Europe/Paris'): nothing is left. SQLite stores UTC
    as text ('2026-04-15 08:30:00.000000') and has no time zones; Paris is UTC+1 or UTC+2, so
    the Paris day D' of a UTC time on day D is D up to 21:59, D + 1 from 23:00, and from 22:00
    to 22:59 D (winter) or D + 1 (summer). At 22:xx both are inside the window when
    window_start <= D < window_end, both outside when D + 1 < window_start or D > window_end:
    only D = window_end and D + 1 = window_start depend on the season, and those rare rows are
    decided in Python with zoneinfo (`_cases`)."""
    reached = CASE.c.reached_at.is_not(None)
    ws, we = CASE.c.window_start, CASE.c.window_end
    if conn.dialect.name == "postgresql":
        day = cast(func.timezone("Europe/Paris", CASE.c.reached_at), Date)
        return and_(reached, day >= ws, day <= we), None
    hour, day = func.substr(CASE.c.reached_at, 12, 2), func.substr(CASE.c.reached_at, 1, 10)
    late_evening = hour == "22"
    ambiguous = and_(reached, late_evening, or_(day == we, func.date(day, "+1 day") == ws))
    inside = case((hour == "23", func.date(CASE.c.reached_at, "+1 hour").between(ws, we)),
                  (late_evening, and_(day >= ws, day < we)), else_=day.between(ws, we))
    return and_(reached, inside), ambiguous


class _Group:
    """The additive counts of one (cohort month, agency, advisor), or of the totals."""

    def __init__(self) -> None:
        self.by_state: Counter = Counter()
        # cases, reached, on_time, caught_up, late, bilans, known_before, before, after, documents
        # required and satisfied; the devis proposed, sent, signed, refused.
        self.n: Counter = Counter()
        self.outcomes: Counter = Counter()
        self.action_kinds: Counter = Counter()
        self.action_statuses: Counter = Counter()

    def add(self, other: "_Group") -> None:
        for mine, theirs in ((self.by_state, other.by_state), (self.n, other.n), (self.outcomes, other.outcomes),
                             (self.action_kinds, other.action_kinds),
                             (self.action_statuses, other.action_statuses)):
            mine.update(theirs)


def compute(conn: Connection, f: StatsFilter, today: date | None = None) -> dict[str, Any]:
    conds = _case_ids(f)
    groups: dict[tuple, _Group] = defaultdict(_Group)
    _cases(conn, conds, today, groups)
    _outcomes(conn, conds, groups)
    _actions(conn, conds, groups)
    names = dict(conn.execute(select(ADVISOR.c.id, ADVISOR.c.name)).all())
    total = _Group()
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2] or 0)):
        g = groups[key]
        total.add(g)
        rows.append({"cohort_month": key[0], "agency_id": key[1], "advisor_id": key[2],
                     "advisor_name": names.get(key[2]), **_figures(g), **_lateness(g, today)})
    return {"totals": {**_figures(total), **_lateness(total, today)}, "groups": rows}


def _rows(conn: Connection, stmt):
    """(group key, the row's other values by name) of a statement whose first columns are KEYS."""
    for r in conn.execute(stmt):
        m = r._mapping
        yield (r[0], r[1], r[2]), {k: m[k] for k in list(m.keys())[3:]}


def _cases(conn: Connection, conds: list, today: date | None, groups: dict) -> None:
    """Cases per group and state, with the counts of reached, on time, rattrapés, late, bilans,
    multi-equipment before and after, and the documents required and satisfied."""
    on_time, ambiguous = _on_time(conn)
    with_bilan = CASE.c.bilan_at.is_not(None)
    # The client holds active contracts of two families or more now (the rate "after"): asked of
    # each bilan's client, as min <> max of the families (no DISTINCT to sort).
    families = CONTRACT.c.family
    multi = (select(func.min(families) != func.max(families))
             .where(CONTRACT.c.client_id == CASE.c.client_id, CONTRACT.c.status == "active")
             .correlate(CASE).scalar_subquery())
    reached = CASE.c.reached_at.is_not(None)
    columns = [
        func.count().label("cases"),
        _count(reached).label("reached"),
        _count(on_time if ambiguous is None else and_(on_time, ~ambiguous)).label("on_time"),
        _count(CASE.c.late.is_(True)).label("caught_up"),
        _count(with_bilan).label("bilans"),
        _count(and_(with_bilan, CASE.c.families_before.is_not(None))).label("known_before"),
        _count(and_(with_bilan, CASE.c.families_before >= 2)).label("before"),
        _count(and_(with_bilan, multi)).label("after"),
        func.sum(CASE.c.documents_required).label("documents_required"),
        func.sum(CASE.c.documents_satisfied).label("documents_satisfied"),
    ]
    if today is not None:
        columns.append(_count(late_clause(today)).label("late"))
    if ambiguous is not None:  # their ids, to decide in Python (SQLite: group_concat)
        columns.append(func.group_concat(case((ambiguous, CASE.c.id))).label("_ambiguous"))
    left: list[int] = []
    for key, values in _rows(conn, select(*KEYS, CASE.c.state, *columns).where(*conds)
                             .group_by(*KEYS, CASE.c.state)):
        g = groups[key]
        g.by_state[values.pop("state")] += values["cases"]
        ids = values.pop("_ambiguous", None)
        if ids:
            left += [int(i) for i in str(ids).split(",")]
        g.n.update({k: v or 0 for k, v in values.items()})
    # Reached at 22:xx UTC on the window's last day or the day before it opens: the season decides.
    for start in range(0, len(left), 5000):
        for r in conn.execute(select(*KEYS, CASE.c.reached_at, CASE.c.window_start, CASE.c.window_end)
                              .where(CASE.c.id.in_(left[start:start + 5000]))):
            if r.window_start <= r.reached_at.astimezone(_PARIS).date() <= r.window_end:
                groups[(r.cohort_month, r.agency_id, r.assigned_advisor_id)].n["on_time"] += 1


_OUTCOME_KINDS = [k.value for k in OutcomeKind]
_ACTION_KINDS = [k.value for k in ActionKind]
_ACTION_STATUSES = [s.value for s in ActionStatus]


def _outcomes(conn: Connection, conds: list, groups: dict) -> None:
    """Bilan outcomes per kind: one column per kind of the list, in one pass."""
    kind = OUTCOME.c.kind
    joined = CASE.join(OUTCOME, OUTCOME.c.case_id == CASE.c.id)
    columns = [_count(kind == k).label(k) for k in _OUTCOME_KINDS] + [_count(kind.not_in(_OUTCOME_KINDS)).label("_other")]
    other = False
    for key, values in _rows(conn, select(*KEYS, *columns).select_from(joined).where(*conds).group_by(*KEYS)):
        other = other or bool(values.pop("_other"))
        groups[key].outcomes.update({k: v for k, v in values.items() if v})
    if other:  # a kind outside the list (none is written today): counted as it is
        for *key, k, n in conn.execute(select(*KEYS, kind, func.count()).select_from(joined)
                                       .where(*conds, kind.not_in(_OUTCOME_KINDS)).group_by(*KEYS, kind)):
            groups[tuple(key)].outcomes[k] += n


def _actions(conn: Connection, conds: list, groups: dict) -> None:
    """Actions per kind and per status, and the devis' way from proposed to signed, in one pass."""
    kind, status = ACTION.c.kind, ACTION.c.status
    devis = func.coalesce(ACTION.c.devis_status, "propose")
    is_devis = kind == "devis"
    joined = CASE.join(ACTION, ACTION.c.case_id == CASE.c.id)
    columns = ([_count(kind == k).label(f"k_{k}") for k in _ACTION_KINDS]
               + [_count(status == s).label(f"s_{s}") for s in _ACTION_STATUSES] + [
        # proposed: not cancelled while only proposed; sent: envoyé, then signé or refusé.
        _count(and_(is_devis, ~and_(status == "cancelled", devis == "propose"))).label("devis_proposed"),
        _count(and_(is_devis, devis.in_(("envoye", "signe", "refuse")))).label("devis_sent"),
        _count(and_(is_devis, devis == "signe")).label("devis_signed"),
        _count(and_(is_devis, devis == "refuse")).label("devis_refused"),
        _count(kind.not_in(_ACTION_KINDS)).label("_other_kind"), _count(status.not_in(_ACTION_STATUSES)).label("_other_status"),
    ])
    other_kind = other_status = False
    for key, values in _rows(conn, select(*KEYS, *columns).select_from(joined).where(*conds).group_by(*KEYS)):
        other_kind = other_kind or bool(values.pop("_other_kind"))
        other_status = other_status or bool(values.pop("_other_status"))
        g = groups[key]
        g.action_kinds.update({k[2:]: v for k, v in values.items() if k.startswith("k_") and v})
        g.action_statuses.update({k[2:]: v for k, v in values.items() if k.startswith("s_") and v})
        g.n.update({k: v for k, v in values.items() if k.startswith("devis_")})
    for flag, col, known, counter in ((other_kind, kind, _ACTION_KINDS, "action_kinds"),
                                      (other_status, status, _ACTION_STATUSES, "action_statuses")):
        if flag:  # a value outside the lists (none is written today): counted as it is
            for *key, v, n in conn.execute(select(*KEYS, col, func.count()).select_from(joined)
                                           .where(*conds, col.not_in(known)).group_by(*KEYS, col)):
                getattr(groups[tuple(key)], counter)[v] += n


def _lateness(g: _Group, today: date | None) -> dict[str, Any]:
    """late: en retard on `today` (states.lateness, the digests' definition); caught_up: rattrapés."""
    out: dict[str, Any] = {"caught_up": g.n["caught_up"]}
    if today is not None:
        out["late"] = g.n["late"]
    return out


def _conversion(n: Counter, needs: int) -> dict[str, Any]:
    """proposal -> devis -> signed: devis actions proposed (not cancelled while only proposed),
    sent to the client (envoyé, then signé or refusé), signed; the needs they come from."""
    proposed, sent, signed = n["devis_proposed"], n["devis_sent"], n["devis_signed"]
    return {"needs": needs, "proposed": proposed, "sent": sent, "signed": signed, "refused": n["devis_refused"],
            "sent_rate": _rate(sent, proposed), "signed_rate": _rate(signed, sent),
            "conversion_rate": _rate(signed, proposed)}


def _figures(g: _Group) -> dict[str, Any]:
    n = g.n
    return {
        "cases": n["cases"],
        "by_state": dict(sorted((s, k) for s, k in g.by_state.items() if k)),
        "reached": n["reached"], "reach_rate": _rate(n["reached"], n["cases"]),
        "on_time": n["on_time"], "on_time_rate": _rate(n["on_time"], n["reached"]),
        "documents_satisfied": n["documents_satisfied"], "documents_required": n["documents_required"],
        "documents_completeness": _rate(n["documents_satisfied"], n["documents_required"]),
        "opportunities": g.outcomes.get("complementary_need", 0),
        "outcomes": dict(sorted((k, v) for k, v in g.outcomes.items() if v)),
        "actions": {"by_kind": dict(sorted((k, v) for k, v in g.action_kinds.items() if v)),
                    "by_status": dict(sorted((k, v) for k, v in g.action_statuses.items() if v))},
        "conversion": _conversion(n, g.outcomes.get("complementary_need", 0)),
        "bilans": n["bilans"],
        "multi_equipment_before": _rate(n["before"], n["known_before"]),
        "multi_equipment_after": _rate(n["after"], n["bilans"]),
    }
