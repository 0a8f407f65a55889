"""The monthly cohort: one case per client with contracts due (effective date + 3 months) in the month.

Set-based: one SELECT finds every eligible contract, one more the cases of their clients, Python
groups them by client (a few µs per client), and `store.cases.open_cases` writes the new cases,
their contract links and their opening audit records in three bulk INSERTs (COPY on
PostgreSQL), the joins go through the write path as one batch, all in ONE transaction. Idempotency is the database's: a contract is in at most one case (unique
`case_contract.contract_id`), so a rerun, or a rerun after a crash (which rolled everything
back), creates exactly what a clean run would.

Rules (domain.md, and the choices we made where it is silent):
- due date = effective + 3 calendar months, clamped to the month's end. Every day of month M-3
  maps into M (31 Jan -> 30 Apr, 29/30 Nov -> 28 Feb), and no other day does, so the contracts due
  in M are exactly those effective in M-3: a date range the index on effective_date serves.
- when: the cohort of M opens `cohort_lead_days` (10) before M starts, so that a case due on the
  1st (window opening 7 days before) can use its whole window. The daily deployment opens this
  month's cohort and, within that lead, next month's (`states.calendar.cohorts_open_on`).
- catch-up: an active contract due in M-1 that no case covers (imported late, a missed run) is
  taken by M's cohort; its case is flagged `late`. Only one month back: older ones need a person.
- which clients (each eligible contract ends in exactly one of these, listed in the result):
  * the client has an open case: the contract JOINS it, through the write path's batch form
    (`store.write_path.execute_batch_in`: `states.joins` decides, audited as system:cohort on
    each case, version and audit chain advance; all joins in a few statements). Before
    *contrats finalisés* its signatures and documents count toward that step; after it, what is
    missing becomes an open *pièces à obtenir* action, due in `pieces_due_days`;
  * the client's case closed after the client was reached (complet, refus) within
    `recontact_after_reached_months` (12), or closed unreached (injoignable, sans suite) within
    `recontact_after_unreached_months` (3): SKIPPED, listed with the case that covers it, the
    reason and the day the client may be called again;
  * otherwise: a NEW case. A case closed with no reason recorded counts as reached (strictest).
- the case's due date is the earliest due date of its contracts; window = due ± contact_window_days.
  Calling may start on the first business day of the window (or the as-of day for a late case).
- priority = max family weight of its contracts + client kind weight
             + min(cap, floor(total premium / premium step)); weights in settings. The three parts
  are stored on the case (`priority_parts`), and so is the number of families the client holds
  at opening (`families_before`, the multi-equipment rate's "before").
- advisor: the client's advisor of record when active and of the client's agency; otherwise the
  least-loaded active advisor of that agency (load = open cases, ties by lowest id), counting the
  cases this run assigns; never an advisor of another agency. No active advisor: unassigned.
"""
from __future__ import annotations

import gc
import heapq
import logging
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, Engine, Float, bindparam, cast, func, or_, select

from config import Settings, get_settings
from states.calendar import (
    PARIS, cohort_opens_on, contact_window, due_date, is_business_day, month_bounds, previous_month,
)
from states.lifecycle import BEFORE_FINALISATION, ClosingReason, State
from states.records import ContractRecord, Family, RequirementRecord, RequirementStatus
from store import cases as opening
from store import run_lock
from store.errors import VersionConflict
from store.snapshot import ADVISOR, CASE, CASE_CONTRACT, CLIENT, CONTRACT, REQUIREMENT

log = logging.getLogger("m3.cohort")
ACTOR = "system:cohort"
RUN_TIME = time(6)  # the scheduled hour (Paris): the timestamp of a replayed run
REACHED = (ClosingReason.COMPLET.value, ClosingReason.REFUS.value)
UNREACHED = (ClosingReason.INJOIGNABLE.value, ClosingReason.SANS_SUITE.value)
CLOSING_LABELS = {"complet": "complet", "refus": "refus", "injoignable": "injoignable", "sans_suite": "sans suite"}
JOIN_RETRIES = 5


@dataclass(slots=True)
class PlannedCase:
    client_id: str
    agency_id: str
    contract_ids: tuple[str, ...]
    families: tuple[str, ...]
    due_date: date
    window_start: date
    window_end: date
    call_from: date
    priority: int
    late: bool
    advisor_id: int | None
    advisor: str | None
    case_id: int | None = None
    priority_parts: dict[str, int] = field(default_factory=dict)
    families_before: int = 0

    def new_case(self, month: str) -> opening.NewCase:
        return opening.NewCase(self.client_id, self.agency_id, self.contract_ids, month, self.due_date,
                               self.window_start, self.window_end, self.advisor_id, self.priority, self.late,
                               self.families_before, self.priority_parts)

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("due_date", "window_start", "window_end", "call_from"):
            d[k] = d[k].isoformat()
        d["contract_ids"] = list(self.contract_ids)
        d["families"] = list(self.families)
        return d


@dataclass(slots=True)
class PlannedJoin:
    """New contracts of a client whose case is open: they join it."""

    case_id: int
    client_id: str
    case_state: str
    contract_ids: tuple[str, ...]
    late: bool
    counts_toward: str  # "contrats_finalises" (step ahead) or "pieces" (step passed: an action)
    pieces_actions: int = 0  # after the run: 1 when a "pièces à obtenir" action was opened
    version: int = 0  # the case's version when planned

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["contract_ids"] = list(self.contract_ids)
        del d["version"]
        return d


@dataclass(slots=True)
class SkippedContract:
    """A contract the cohort does not follow up, and the case that covers its client."""

    contract_id: str
    client_id: str
    case_id: int
    reason: str  # "recently_reached", "recently_unreached", "case_closed_during_run"
    label: str  # French, for a person
    closing_reason: str | None
    closed_on: date | None
    callable_from: date | None  # the first day the client may be called again (None: next run decides)
    late: bool

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("closed_on", "callable_from"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


@dataclass
class CohortResult:
    month: str
    as_of: date
    dry_run: bool
    cases: list[PlannedCase] = field(default_factory=list)
    contracts: int = 0
    joined: list[PlannedJoin] = field(default_factory=list)
    skipped: list[SkippedContract] = field(default_factory=list)
    opens_on: date | None = None
    waited_for_other_run: bool = False  # another run held the lock: this one planned after it

    @property
    def late(self) -> int:
        return sum(c.late for c in self.cases)

    def summary(self) -> dict[str, Any]:
        by_agency = Counter(c.agency_id for c in self.cases)
        by_advisor = Counter(c.advisor or "(non attribué)" for c in self.cases)
        by_family = Counter(f for c in self.cases for f in c.families)
        return {"month": self.month, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "opens_on": self.opens_on.isoformat() if self.opens_on else None,
                "cases": len(self.cases), "contracts": self.contracts, "late": self.late,
                "joined_cases": len(self.joined), "joined_contracts": sum(len(j.contract_ids) for j in self.joined),
                "pieces_actions": sum(j.pieces_actions for j in self.joined),
                "skipped_contracts": len(self.skipped),
                "skipped_by_reason": dict(sorted(Counter(s.reason for s in self.skipped).items())),
                "by_agency": dict(sorted(by_agency.items())), "by_advisor": dict(sorted(by_advisor.items())),
                "by_family": dict(sorted(by_family.items()))}

    def as_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "cases": [c.as_json() for c in self.cases],
                "joined": [j.as_json() for j in self.joined], "skipped": [s.as_json() for s in self.skipped]}


def effective_range(month: str) -> tuple[date, date]:
    """The effective dates whose due date falls in `month`: the whole month three months before."""
    first, _ = month_bounds(month)
    return month_bounds(f"{first - relativedelta(months=3):%Y-%m}")


def priority_parts(families: set[str], kind: str, premium: float, s: Settings) -> dict[str, int]:
    """The priority's three parts: the highest family weight among the contracts, the client kind's
    weight, and one point per premium step (capped)."""
    weights = s.priority_weight_family
    fam = max([weights.get(f, 0) for f in families], default=0)
    prem = min(s.priority_premium_cap, int(premium // s.priority_premium_step_eur)) if premium > 0 else 0
    return {"family": fam, "kind": s.priority_weight_kind.get(kind, 0), "premium": prem}


def priority(families: set[str], kind: str, premium: float, s: Settings) -> int:
    """max family weight + client kind weight + min(cap, floor(premium / step)): see the module doc."""
    return sum(priority_parts(families, kind, premium, s).values())


def _eligible_conditions(month: str):
    _, end = effective_range(month)
    catch_start, _ = effective_range(previous_month(month))
    covered = select(CASE_CONTRACT.c.case_id).where(CASE_CONTRACT.c.contract_id == CONTRACT.c.id).exists()
    return (CONTRACT.c.status == "active", CONTRACT.c.effective_date.between(catch_start, end), ~covered)


def _eligible(conn: Connection, month: str, as_of: date):
    """Every eligible contract with its client, and the families the client holds on `as_of`."""
    stmt = (
        select(CONTRACT.c.client_id, CONTRACT.c.id, CONTRACT.c.effective_date, CONTRACT.c.family,
               func.coalesce(cast(CONTRACT.c.premium_eur, Float), 0.0), CLIENT.c.kind, CLIENT.c.agency_id,
               CLIENT.c.advisor_id, opening.families_held_column(CONTRACT.c.client_id, as_of))
        .join(CLIENT, CLIENT.c.id == CONTRACT.c.client_id)
        .where(*_eligible_conditions(month))
        .order_by(CONTRACT.c.client_id, CONTRACT.c.id)
    )
    return conn.execute(stmt).all()


def _cases_of_clients(conn: Connection, client_ids: list[str], as_of: date, s: Settings) -> dict[str, dict[str, Any]]:
    """client id -> {"open": (id, state, version) of its open case, "reached"/"unreached": (id,
    reason, closed day) of its latest case closed within the setting's months}, for the clients of
    the eligible contracts. Closed cases older than both settings are not read."""
    months = max(s.recontact_after_reached_months, s.recontact_after_unreached_months)
    cutoff = datetime.combine(as_of - relativedelta(months=months), time(0), PARIS)
    rows = []
    for start in range(0, len(client_ids), opening.CHUNK):
        rows += conn.execute(_CASES_OF_CLIENTS, {"ids": client_ids[start:start + opening.CHUNK],
                                                 "cutoff": cutoff}).all()
    reached_from = as_of - relativedelta(months=s.recontact_after_reached_months)
    unreached_from = as_of - relativedelta(months=s.recontact_after_unreached_months)
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in rows:
        info = out[r.client_id]
        if r.state != State.CLOTURE.value:
            info["open"] = (r.id, r.state, r.version)  # the latest open case, should there be two
            continue
        at = r.closed_at
        day = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(PARIS).date() if at else None
        reached = r.closing_reason not in UNREACHED  # complet, refus, or no reason recorded
        since = reached_from if reached else unreached_from
        if day is not None and day >= since:
            key = "reached" if reached else "unreached"
            if key not in info or info[key][2] <= day:
                info[key] = (r.id, r.closing_reason, day)
    return out


_CLOSED_AT = func.coalesce(CASE.c.closed_at, CASE.c.updated_at, CASE.c.created_at)
_CASES_OF_CLIENTS = (
    select(CASE.c.id, CASE.c.client_id, CASE.c.state, CASE.c.closing_reason, _CLOSED_AT.label("closed_at"),
           CASE.c.version)
    .where(CASE.c.client_id.in_(bindparam("ids", expanding=True)),
           or_(CASE.c.state != State.CLOTURE.value, _CLOSED_AT >= bindparam("cutoff", type_=CASE.c.created_at.type)))
    .order_by(CASE.c.id))


def _skip(contract_ids: list[str], client_id: str, late_ids: set[str], info: dict, s: Settings
          ) -> list[SkippedContract]:
    if "reached" in info:
        case_id, reason, day = info["reached"]
        months, code, how = s.recontact_after_reached_months, "recently_reached", "après avoir été joint"
    else:
        case_id, reason, day = info["unreached"]
        months, code, how = s.recontact_after_unreached_months, "recently_unreached", "sans avoir été joint"
    again = day + relativedelta(months=months)
    label = (f"client déjà suivi : dossier n° {case_id} clôturé ({CLOSING_LABELS.get(reason, 'sans motif')}) "
             f"le {day:%d/%m/%Y} {how}, il y a moins de {months} mois ; pas de nouvel appel avant le "
             f"{again:%d/%m/%Y}")
    return [SkippedContract(k, client_id, case_id, code, label, reason, day, again, k in late_ids)
            for k in contract_ids]


def _first_call_day(window_start: date, as_of: date) -> date:
    day = max(window_start, as_of)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def plan(conn: Connection, month: str, as_of: date, settings: Settings | None = None) -> CohortResult:
    """What the cohort of `month` does when run on `as_of`; writes nothing."""
    s = settings or get_settings()
    first_effective, _ = effective_range(month)  # contracts effective before it are last month's catch-up
    rows = _eligible(conn, month, as_of)
    result = CohortResult(month, as_of, dry_run=True, contracts=len(rows),
                          opens_on=cohort_opens_on(month, s.cohort_lead_days))
    dues: dict[date, tuple[date, date, date, date]] = {}  # effective -> (due, window start/end, call from)
    groups: list[list] = []
    cur, acc = None, None
    for client_id, contract_id, eff, family, premium, kind, agency, adv, held in rows:
        if client_id != cur:
            cur = client_id
            acc = [client_id, agency, adv, kind, [], set(), eff, 0.0, False, set(), held]
            groups.append(acc)
        acc[4].append(contract_id)
        acc[5].add(family)
        if eff < acc[6]:
            acc[6] = eff
        acc[7] += premium
        if eff < first_effective:
            acc[8] = True
            acc[9].add(contract_id)
    followed = _cases_of_clients(conn, [g[0] for g in groups], as_of, s) if groups else {}
    new_groups = []
    for g in groups:
        info = followed.get(g[0])
        if not info:
            new_groups.append(g)
        elif "open" in info:
            case_id, state, version = info["open"]
            toward = "contrats_finalises" if State(state) in BEFORE_FINALISATION else "pieces"
            result.joined.append(PlannedJoin(case_id, g[0], state, tuple(g[4]), g[8], toward, 0, version))
        elif "reached" in info or "unreached" in info:
            result.skipped.extend(_skip(g[4], g[0], g[9], info, s))
        else:
            new_groups.append(g)
    if not new_groups:
        return result
    advisors = conn.execute(select(ADVISOR.c.id, ADVISOR.c.name, ADVISOR.c.agency_id).where(ADVISOR.c.active)).all()
    names = {a.id: a.name for a in advisors}
    agency_of = {a.id: a.agency_id for a in advisors}
    loads = dict(conn.execute(select(CASE.c.assigned_advisor_id, func.count()).where(
        CASE.c.state != "cloture", CASE.c.assigned_advisor_id.is_not(None)).group_by(CASE.c.assigned_advisor_id)).all())
    # Advisors of record first (they are not a choice), then the rest go to the least loaded.
    chosen: list[int | None] = []
    for g in new_groups:
        adv = g[2] if g[2] is not None and agency_of.get(g[2]) == g[1] else None
        chosen.append(adv)
        if adv is not None:
            loads[adv] = loads.get(adv, 0) + 1
    heaps: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a in advisors:
        heaps[a.agency_id].append((loads.get(a.id, 0), a.id))
    for h in heaps.values():
        heapq.heapify(h)
    for i, g in enumerate(new_groups):
        if chosen[i] is None and heaps.get(g[1]):
            load, adv = heapq.heappop(heaps[g[1]])
            heapq.heappush(heaps[g[1]], (load + 1, adv))
            chosen[i] = adv
    for g, adv in zip(new_groups, chosen):
        client_id, agency, _, kind, contract_ids, families, eff, premium, late, _, held = g
        d = dues.get(eff)
        if d is None:
            due = due_date(eff)
            ws, we = contact_window(due, s.contact_window_days)
            d = dues[eff] = (due, ws, we, _first_call_day(ws, as_of))
        parts = priority_parts(families, kind, premium, s)
        result.cases.append(PlannedCase(
            client_id, agency, tuple(contract_ids), tuple(sorted(families)), d[0], d[1], d[2], d[3],
            sum(parts.values()), late, adv, names.get(adv), None, parts, held))
    return result


def _contract_records(conn: Connection, ids: list[str]) -> dict[str, ContractRecord]:
    """The joining contracts as the domain sees them, with any requirement already recorded."""
    if not ids:
        return {}
    reqs: dict[str, dict[str, RequirementRecord]] = defaultdict(dict)
    for r in conn.execute(select(REQUIREMENT).where(REQUIREMENT.c.contract_id.in_(ids))):
        reqs[r.contract_id][r.code] = RequirementRecord(r.code, RequirementStatus(r.status), r.waiver_reason)
    return {k.id: ContractRecord(k.id, Family(k.family), k.product, k.effective_date, k.status == "active",
                                 k.premium_eur, reqs.get(k.id, {}))
            for k in conn.execute(select(CONTRACT).where(CONTRACT.c.id.in_(ids)))}


def _join_all(conn: Connection, joins: list[PlannedJoin], records: dict[str, ContractRecord], due: date,
              now: datetime) -> list[tuple[PlannedJoin, DomainError]]:
    """Every join through the write path's batch form (store.write_path.execute_batch_in: the same
    checks, decide() and rows as one change at a time, in a few statements for all of them).
    Return the joins the domain refused (a case closed meanwhile: its contracts wait for the next
    run). A case changed since the plan read it is tried again at its current version."""
    # Imported here: a dry run never joins, and the write path and the domain's commands and guards
    # are ~0.1-0.2 s of its start (docs/performance-cli-http.md).
    from states.commands import JoinContracts
    from states.errors import DomainError
    from store.write_path import Change, execute_batch_in

    version = {j.case_id: j.version for j in joins}
    pending, refused = joins, []
    for _ in range(JOIN_RETRIES):
        changes = [Change(j.case_id, version[j.case_id], JoinContracts(tuple(records[k] for k in j.contract_ids), due))
                   for j in pending]
        retry = []
        for j, outcome in zip(pending, execute_batch_in(conn, changes, ACTOR, now)):
            if isinstance(outcome, VersionConflict):
                version[j.case_id] = outcome.current
                retry.append(j)
            elif isinstance(outcome, DomainError):
                refused.append((j, outcome))
            elif isinstance(outcome, Exception):  # CaseNotFound: a case deleted under the run
                raise outcome
            else:
                j.pieces_actions = int("action" in outcome.changes)
        if not retry:
            return refused
        pending = retry
    j = pending[0]
    raise VersionConflict(j.case_id, version[j.case_id], version[j.case_id])  # still changing after JOIN_RETRIES reads


def apply(conn: Connection, result: CohortResult, now: datetime, settings: Settings | None = None) -> None:
    """Write the planned cases (store.cases.open_cases, in bulk) and the joins (the write path, in a batch)."""
    s = settings or get_settings()
    result.dry_run = False
    if result.cases:
        ids = opening.open_cases(conn, [c.new_case(result.month) for c in result.cases], ACTOR, now)
        for case_id, c in zip(ids, result.cases):
            c.case_id = case_id
    if not result.joined:
        return
    records = _contract_records(conn, [k for j in result.joined for k in j.contract_ids])
    due = result.as_of + timedelta(days=s.pieces_due_days)
    refused = _join_all(conn, result.joined, records, due, now)
    for j, why in refused:
        log.warning("cohort %s: case %s refused its new contracts (%s)", result.month, j.case_id, type(why).__name__)
        result.skipped.extend(SkippedContract(
            k, j.client_id, j.case_id, "case_closed_during_run",
            f"dossier n° {j.case_id} clôturé ou modifié pendant la cohorte : contrat repris au prochain passage",
            None, None, None, j.late) for k in j.contract_ids)
    if refused:
        gone = {id(j) for j, _ in refused}
        result.joined = [j for j in result.joined if id(j) not in gone]


@contextmanager
def _no_cyclic_gc():
    """The cyclic garbage collector off while a run allocates its ~100,000 small rows and records:
    its passes over a growing heap were a fifth of the cohort's time, and these objects hold no
    cycles (reference counting frees them). Restored on the way out, whatever happens."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_cohort(engine: Engine, month: str, as_of: date, now: datetime, dry_run: bool = False,
               settings: Settings | None = None) -> CohortResult:
    """Plan and (unless dry_run) create the month's cases and joins in one transaction."""
    with _no_cyclic_gc():
        if dry_run:
            with engine.connect() as conn:
                result = plan(conn, month, as_of, settings)
                conn.rollback()
        else:
            with engine.begin() as conn:
                waited = run_lock.hold(conn, "cohort")  # a concurrent run waits, then opens nothing twice
                result = plan(conn, month, as_of, settings)
                result.waited_for_other_run = waited
                apply(conn, result, now, settings)
    log.info("cohort %s: %s cases, %s late, %s joined, %s skipped, %s contracts%s", month, len(result.cases),
             result.late, len(result.joined), len(result.skipped), result.contracts, " (dry run)" if dry_run else "")
    return result


def summary_markdown(result: CohortResult) -> str:
    """The run's summary for a person (the Prefect artifact and `m3 cohort`'s report)."""
    s = result.summary()
    verb = "à créer (simulation)" if result.dry_run else "créés"
    lines = [f"# Cohorte M+3 {result.month}", "",
             f"Au {result.as_of:%d/%m/%Y} : **{s['cases']} dossiers {verb}** pour {s['contracts']} contrats, "
             f"dont **{s['late']} rattrapés** (échus le mois précédent, qu'aucun dossier ne couvrait).", ""]
    if result.waited_for_other_run:
        lines += ["Une autre exécution de la cohorte était en cours : celle-ci l'a attendue, puis n'a créé que "
                  "ce qui manquait encore.", ""]
    if result.opens_on:
        lines += [f"La cohorte s'ouvre le {result.opens_on:%d/%m/%Y}.", ""]
    lines += [f"Contrats rattachés à un dossier ouvert : **{s['joined_contracts']}** ({s['joined_cases']} dossiers, "
              f"{s['pieces_actions']} actions « pièces à obtenir »). Contrats écartés : **{s['skipped_contracts']}**.",
              ""]
    for title, key, col in (("Par agence", "by_agency", "agence"), ("Par conseiller", "by_advisor", "conseiller"),
                            ("Par famille (contrats)", "by_family", "famille")):
        lines += [f"## {title}", "", f"| {col} | nombre |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in s[key].items()] or ["| — | 0 |"]
        lines.append("")
    late = [c for c in result.cases if c.late]
    if late:
        lines += ["## Dossiers rattrapés", "", "| client | contrats | échéance | conseiller |", "|---|---|---|---|"]
        lines += [f"| {c.client_id} | {', '.join(c.contract_ids)} | {c.due_date:%d/%m/%Y} | {c.advisor or '—'} |"
                  for c in late[:200]]
        if len(late) > 200:
            lines.append(f"| … {len(late) - 200} autres | | | |")
        lines.append("")
    if result.joined:
        lines += ["## Contrats rattachés à un dossier ouvert", "",
                  "| dossier | client | contrats | état du dossier | leurs pièces |", "|---:|---|---|---|---|"]
        lines += [f"| {j.case_id} | {j.client_id} | {', '.join(j.contract_ids)} | {j.case_state} | "
                  f"{'comptent pour « contrats finalisés »' if j.counts_toward == 'contrats_finalises' else 'action « pièces à obtenir »'} |"
                  for j in result.joined]
        lines.append("")
    if result.skipped:  # every one of them: nothing is dropped silently
        lines += ["## Contrats écartés (client déjà suivi)", "", "| contrat | client | dossier | motif |",
                  "|---|---|---:|---|"]
        lines += [f"| {k.contract_id} | {k.client_id} | {k.case_id} | {k.label} |" for k in result.skipped]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
