"""The statistics as computed before issue 8's performance work, every row counted in Python:
kept verbatim below this paragraph as the reference the SQL version (api/queries/stats.py) must
equal (tests/integration/test_stats__sql_matches_python.py). Not used by the product.

Figures per cohort month, agency and advisor (domain.md, "Figures agencies track").

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
Set-based: a handful of queries over the filtered cases, then arithmetic in Python.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from states import requirements
from states.calendar import PARIS
from states.lateness import is_late
from states.records import ClientKind, ContractRecord, Family, RequirementRecord, RequirementStatus
from store.snapshot import ACTION, ADVISOR, CASE, CASE_CONTRACT, CLIENT, CONTRACT, OUTCOME, REQUIREMENT

_PARIS = PARIS  # states.calendar: the one place


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


def _lateness(cases, today: date | None) -> dict[str, Any]:
    """late: en retard on `today` (states.lateness, the digests' definition); caught_up: rattrapés."""
    out: dict[str, Any] = {"caught_up": sum(1 for c in cases if c.late)}
    if today is not None:
        out["late"] = sum(1 for c in cases if is_late(c.state, c.window_end, today))
    return out


def compute(conn: Connection, f: StatsFilter, today: date | None = None) -> dict[str, Any]:
    conds = _case_ids(f)
    ids = select(CASE.c.id).where(*conds).scalar_subquery()
    cases = conn.execute(select(CASE.c.id, CASE.c.cohort_month, CASE.c.agency_id, CASE.c.assigned_advisor_id,
                                CASE.c.state, CASE.c.reached_at, CASE.c.window_start, CASE.c.window_end,
                                CASE.c.bilan_at, CASE.c.client_id, CLIENT.c.kind, CASE.c.late,
                                CASE.c.families_before)
                         .join(CLIENT, CLIENT.c.id == CASE.c.client_id).where(*conds)).all()
    outcomes = defaultdict(list)
    for r in conn.execute(select(OUTCOME.c.case_id, OUTCOME.c.kind).where(OUTCOME.c.case_id.in_(ids))):
        outcomes[r.case_id].append(r.kind)
    actions = defaultdict(list)
    for r in conn.execute(select(ACTION.c.case_id, ACTION.c.kind, ACTION.c.status, ACTION.c.devis_status)
                          .where(ACTION.c.case_id.in_(ids))):
        actions[r.case_id].append((r.kind, r.status, r.devis_status))
    docs = _documents(conn, ids, {c.id: c.kind for c in cases})
    families = _families(conn, conds)
    names = dict(conn.execute(select(ADVISOR.c.id, ADVISOR.c.name)).all())

    groups: dict[tuple, list] = defaultdict(list)
    for c in cases:
        groups[(c.cohort_month, c.agency_id, c.assigned_advisor_id)].append(c)
    rows = [{"cohort_month": k[0], "agency_id": k[1], "advisor_id": k[2], "advisor_name": names.get(k[2]),
             **_figures(v, outcomes, actions, docs, families), **_lateness(v, today)}
            for k, v in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0))]
    return {"totals": {**_figures(cases, outcomes, actions, docs, families), **_lateness(cases, today)},
            "groups": rows}


def _documents(conn: Connection, ids, kinds: dict[int, str]) -> dict[int, tuple[int, int]]:
    """case id -> (requirements satisfied, requirements required)."""
    links = conn.execute(select(CASE_CONTRACT.c.case_id, CONTRACT.c.id, CONTRACT.c.family, CONTRACT.c.product,
                                CONTRACT.c.effective_date)
                         .join(CONTRACT, CONTRACT.c.id == CASE_CONTRACT.c.contract_id)
                         .where(CASE_CONTRACT.c.case_id.in_(ids))).all()
    reqs: dict[str, dict[str, RequirementRecord]] = defaultdict(dict)
    q = (select(REQUIREMENT).join(CASE_CONTRACT, CASE_CONTRACT.c.contract_id == REQUIREMENT.c.contract_id)
         .where(CASE_CONTRACT.c.case_id.in_(ids)))
    for r in conn.execute(q):
        reqs[r.contract_id][r.code] = RequirementRecord(r.code, RequirementStatus(r.status), r.waiver_reason)
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for link in links:
        k = ContractRecord(link.id, Family(link.family), link.product, link.effective_date, True, None,
                           reqs.get(link.id, {}))
        for item in requirements.checklist(k, ClientKind(kinds.get(link.case_id, "particulier"))):
            out[link.case_id][1] += 1
            out[link.case_id][0] += item.satisfied
    return {k: (v[0], v[1]) for k, v in out.items()}


def _families(conn: Connection, conds) -> dict[str, list[tuple[str, Any]]]:
    """client id -> [(family, effective date)] of active contracts, for clients of the filtered cases."""
    clients = select(CASE.c.client_id).where(*conds, CASE.c.bilan_at.is_not(None)).scalar_subquery()
    out: dict[str, list] = defaultdict(list)
    for r in conn.execute(select(CONTRACT.c.client_id, CONTRACT.c.family, CONTRACT.c.effective_date)
                          .where(CONTRACT.c.client_id.in_(clients), CONTRACT.c.status == "active")):
        out[r.client_id].append((r.family, r.effective_date))
    return out


def _conversion(act, needs: int) -> dict[str, Any]:
    """proposal -> devis -> signed: devis actions proposed (not cancelled while only proposed),
    sent to the client (envoyé, then signé or refusé), signed; the needs they come from."""
    devis = [(status, d or "propose") for kind, status, d in act if kind == "devis"]
    proposed = [d for status, d in devis if not (status == "cancelled" and d == "propose")]
    sent = [d for d in proposed if d in ("envoye", "signe", "refuse")]
    signed = [d for d in sent if d == "signe"]
    return {"needs": needs, "proposed": len(proposed), "sent": len(sent), "signed": len(signed),
            "refused": sum(1 for d in sent if d == "refuse"),
            "sent_rate": _rate(len(sent), len(proposed)), "signed_rate": _rate(len(signed), len(sent)),
            "conversion_rate": _rate(len(signed), len(proposed))}


def _figures(cases, outcomes, actions, docs, families) -> dict[str, Any]:
    n = len(cases)
    reached = [c for c in cases if c.reached_at is not None]
    on_time = [c for c in reached if c.window_start <= c.reached_at.astimezone(_PARIS).date() <= c.window_end]
    satisfied = sum(docs.get(c.id, (0, 0))[0] for c in cases)
    required = sum(docs.get(c.id, (0, 0))[1] for c in cases)
    out_kinds = Counter(k for c in cases for k in outcomes.get(c.id, ()))
    act = [a for c in cases for a in actions.get(c.id, ())]
    with_bilan = [c for c in cases if c.bilan_at is not None]
    # before: what the client held when the case opened, frozen then (store.cases); never recomputed.
    known_before = [c for c in with_bilan if c.families_before is not None]
    before = sum(1 for c in known_before if c.families_before >= 2)
    after = sum(1 for c in with_bilan if len({f for f, _ in families.get(c.client_id, ())}) >= 2)
    return {
        "cases": n,
        "by_state": dict(sorted(Counter(c.state for c in cases).items())),
        "reached": len(reached), "reach_rate": _rate(len(reached), n),
        "on_time": len(on_time), "on_time_rate": _rate(len(on_time), len(reached)),
        "documents_satisfied": satisfied, "documents_required": required,
        "documents_completeness": _rate(satisfied, required),
        "opportunities": out_kinds.get("complementary_need", 0),
        "outcomes": dict(sorted(out_kinds.items())),
        "actions": {"by_kind": dict(sorted(Counter(k for k, *_ in act).items())),
                    "by_status": dict(sorted(Counter(s for _, s, *_ in act).items()))},
        "conversion": _conversion(act, out_kinds.get("complementary_need", 0)),
        "bilans": len(with_bilan),
        "multi_equipment_before": _rate(before, len(known_before)),
        "multi_equipment_after": _rate(after, len(with_bilan)),
    }
