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
  ZONE). SQLite has no time zones, but Paris is UTC+1 or UTC+2, and the two give different
  days only for a time between 22:00 and 23:00 UTC: those few cases are counted in Python with
  zoneinfo, the others in SQL with +1 hour.
Outcomes and actions are counted per value of their (closed) lists of kinds and statuses in
the same pass; a value outside those lists, should one be stored, is counted by a second query.
The SQL form equals the former Python one on a seeded book, on both databases
(tests/integration/test_stats__sql_matches_python.py).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Date, and_, case, cast, func, literal_column, select

from states import requirements
from states.calendar import PARIS
from states.records import ClientKind, ContractRecord, Family
from store.lateness import late_clause
from store.snapshot import ACTION, ADVISOR, CASE, CASE_CONTRACT, CLIENT, CONTRACT, OUTCOME, REQUIREMENT

_PARIS = PARIS  # states.calendar: the one place
_SATISFIED = ("received", "validated", "waived")  # states.requirements.RequirementItem.satisfied
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


def _paris_day(conn: Connection):
    """(the Paris day of reached_at as SQL, the condition under which it is exact in SQL)."""
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("Europe/Paris", CASE.c.reached_at), Date), literal_column("true")
    return func.date(CASE.c.reached_at, "+1 hour"), func.strftime("%H", CASE.c.reached_at) != "22"


class _Group:
    """The additive counts of one (cohort month, agency, advisor), or of the totals."""

    def __init__(self) -> None:
        self.by_state: Counter = Counter()
        self.n = Counter()  # cases, reached, on_time, caught_up, late, bilans, known_before, before, after
        self.outcomes: Counter = Counter()
        self.actions: Counter = Counter()  # (kind, status, devis_status) -> n
        self.satisfied = self.required = 0

    def add(self, other: "_Group") -> None:
        self.by_state.update(other.by_state)
        self.n.update(other.n)
        self.outcomes.update(other.outcomes)
        self.actions.update(other.actions)
        self.satisfied += other.satisfied
        self.required += other.required


def compute(conn: Connection, f: StatsFilter, today: date | None = None) -> dict[str, Any]:
    conds = _case_ids(f)
    groups: dict[tuple, _Group] = defaultdict(_Group)
    _cases(conn, conds, today, groups)
    for *key, kind, n in conn.execute(select(*KEYS, OUTCOME.c.kind, func.count())
                                      .select_from(OUTCOME.join(CASE, CASE.c.id == OUTCOME.c.case_id))
                                      .where(*conds).group_by(*KEYS, OUTCOME.c.kind)):
        groups[tuple(key)].outcomes[kind] += n
    for *key, kind, status, devis, n in conn.execute(
            select(*KEYS, ACTION.c.kind, ACTION.c.status, ACTION.c.devis_status, func.count())
            .select_from(ACTION.join(CASE, CASE.c.id == ACTION.c.case_id))
            .where(*conds).group_by(*KEYS, ACTION.c.kind, ACTION.c.status, ACTION.c.devis_status)):
        groups[tuple(key)].actions[(kind, status, devis)] += n
    _documents(conn, conds, groups)
    names = dict(conn.execute(select(ADVISOR.c.id, ADVISOR.c.name)).all())
    total = _Group()
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2] or 0)):
        g = groups[key]
        total.add(g)
        rows.append({"cohort_month": key[0], "agency_id": key[1], "advisor_id": key[2],
                     "advisor_name": names.get(key[2]), **_figures(g), **_lateness(g, today)})
    return {"totals": {**_figures(total), **_lateness(total, today)}, "groups": rows}


def _cases(conn: Connection, conds: list, today: date | None, groups: dict) -> None:
    """Cases per group and state, with the counts of reached, on time, rattrapés, late, bilans
    and multi-equipment before and after."""
    day, exact = _paris_day(conn)
    with_bilan = CASE.c.bilan_at.is_not(None)
    # Clients with active contracts of two families or more now (the rate "after"), among the
    # clients of the filtered cases whose bilan is done.
    bilan_clients = select(CASE.c.client_id).where(*conds, with_bilan)
    multi = (select(CONTRACT.c.client_id).where(CONTRACT.c.client_id.in_(bilan_clients), CONTRACT.c.status == "active")
             .group_by(CONTRACT.c.client_id).having(func.count(CONTRACT.c.family.distinct()) >= 2))
    reached = CASE.c.reached_at.is_not(None)
    columns = [
        func.count().label("cases"),
        _count(reached).label("reached"),
        _count(and_(reached, exact, day >= CASE.c.window_start, day <= CASE.c.window_end)).label("on_time"),
        _count(CASE.c.late.is_(True)).label("caught_up"),
        _count(with_bilan).label("bilans"),
        _count(and_(with_bilan, CASE.c.families_before.is_not(None))).label("known_before"),
        _count(and_(with_bilan, CASE.c.families_before >= 2)).label("before"),
        _count(and_(with_bilan, CASE.c.client_id.in_(multi))).label("after"),
    ]
    if today is not None:
        columns.append(_count(late_clause(today)).label("late"))
    for r in conn.execute(select(*KEYS, CASE.c.state, *columns).where(*conds).group_by(*KEYS, CASE.c.state)):
        g = groups[(r.cohort_month, r.agency_id, r.assigned_advisor_id)]
        g.by_state[r.state] += r.cases
        g.n.update({k: r._mapping[k] or 0 for k in r._mapping.keys() if k not in ("cohort_month", "agency_id",
                                                                                 "assigned_advisor_id", "state")})
    if conn.dialect.name != "postgresql":  # the few reached between 22:00 and 23:00 UTC: in Python
        for r in conn.execute(select(*KEYS, CASE.c.reached_at, CASE.c.window_start, CASE.c.window_end)
                              .where(*conds, reached, ~exact)):
            if r.window_start <= r.reached_at.astimezone(_PARIS).date() <= r.window_end:
                groups[(r.cohort_month, r.agency_id, r.assigned_advisor_id)].n["on_time"] += 1


@lru_cache(maxsize=4096)
def _required(product: str, kind: str) -> frozenset[str]:
    """The codes a contract of this product requires from a client of this kind (states.requirements)."""
    contract = ContractRecord("", Family.IARD, product, date.min, True, None)  # only the product is read
    return frozenset(code for code, _ in requirements.required_codes(contract, ClientKind(kind)))


def _documents(conn: Connection, conds: list, groups: dict) -> None:
    """Required: the checklist's length per contract, from (product, kind); satisfied: the
    requirement rows received, validated or waived whose code the checklist asks for."""
    links = (CASE.join(CASE_CONTRACT, CASE_CONTRACT.c.case_id == CASE.c.id)
             .join(CONTRACT, CONTRACT.c.id == CASE_CONTRACT.c.contract_id)
             .join(CLIENT, CLIENT.c.id == CASE.c.client_id))
    for *key, product, kind, n in conn.execute(
            select(*KEYS, CONTRACT.c.product, CLIENT.c.kind, func.count()).select_from(links)
            .where(*conds).group_by(*KEYS, CONTRACT.c.product, CLIENT.c.kind)):
        groups[tuple(key)].required += n * len(_required(product, kind))
    with_reqs = links.join(REQUIREMENT, REQUIREMENT.c.contract_id == CONTRACT.c.id)
    for *key, product, kind, code, n in conn.execute(
            select(*KEYS, CONTRACT.c.product, CLIENT.c.kind, REQUIREMENT.c.code, func.count()).select_from(with_reqs)
            .where(*conds, REQUIREMENT.c.status.in_(_SATISFIED))
            .group_by(*KEYS, CONTRACT.c.product, CLIENT.c.kind, REQUIREMENT.c.code)):
        if code in _required(product, kind):
            groups[tuple(key)].satisfied += n


def _lateness(g: _Group, today: date | None) -> dict[str, Any]:
    """late: en retard on `today` (states.lateness, the digests' definition); caught_up: rattrapés."""
    out: dict[str, Any] = {"caught_up": g.n["caught_up"]}
    if today is not None:
        out["late"] = g.n["late"]
    return out


def _conversion(actions: Counter, needs: int) -> dict[str, Any]:
    """proposal -> devis -> signed: devis actions proposed (not cancelled while only proposed),
    sent to the client (envoyé, then signé or refusé), signed; the needs they come from."""
    proposed = sent = signed = refused = 0
    for (kind, status, devis), n in actions.items():
        d = devis or "propose"
        if kind != "devis" or (status == "cancelled" and d == "propose"):
            continue
        proposed += n
        if d in ("envoye", "signe", "refuse"):
            sent += n
            signed += n if d == "signe" else 0
            refused += n if d == "refuse" else 0
    return {"needs": needs, "proposed": proposed, "sent": sent, "signed": signed, "refused": refused,
            "sent_rate": _rate(sent, proposed), "signed_rate": _rate(signed, sent),
            "conversion_rate": _rate(signed, proposed)}


def _figures(g: _Group) -> dict[str, Any]:
    n = g.n
    by_kind: Counter = Counter()
    by_status: Counter = Counter()
    for (kind, status, _), k in g.actions.items():
        by_kind[kind] += k
        by_status[status] += k
    return {
        "cases": n["cases"],
        "by_state": dict(sorted((s, k) for s, k in g.by_state.items() if k)),
        "reached": n["reached"], "reach_rate": _rate(n["reached"], n["cases"]),
        "on_time": n["on_time"], "on_time_rate": _rate(n["on_time"], n["reached"]),
        "documents_satisfied": g.satisfied, "documents_required": g.required,
        "documents_completeness": _rate(g.satisfied, g.required),
        "opportunities": g.outcomes.get("complementary_need", 0),
        "outcomes": dict(sorted(g.outcomes.items())),
        "actions": {"by_kind": dict(sorted(by_kind.items())), "by_status": dict(sorted(by_status.items()))},
        "conversion": _conversion(g.actions, g.outcomes.get("complementary_need", 0)),
        "bilans": n["bilans"],
        "multi_equipment_before": _rate(n["before"], n["known_before"]),
        "multi_equipment_after": _rate(n["after"], n["bilans"]),
    }
