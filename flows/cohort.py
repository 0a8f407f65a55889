"""The monthly cohort: one case per client with contracts due (effective date + 3 months) in the month.

Set-based: one SELECT finds every eligible contract, Python groups them by client (a few µs per
client), and three bulk INSERTs write the cases, their contract links and their opening audit
records, all in ONE transaction. Idempotency is the database's: a contract is in at most one
case (unique `case_contract.contract_id`) and a client with an open or recent case is skipped,
so a rerun, or a rerun after a crash (which rolled everything back), creates exactly the cases
a clean run would.

Rules (the issue's section 1, and the choices we made where it is silent):
- due date = effective + 3 calendar months, clamped to the month's end. Every day of month M-3
  maps into M (31 Jan -> 30 Apr, 29/30 Nov -> 28 Feb), and no other day does, so the contracts due
  in M are exactly those effective in M-3: a date range the index on effective_date serves.
- catch-up: an active contract due in M-1 that no case covers (imported late, a missed run) joins
  M's cohort; its case is flagged `late`. Only one month back: older ones need a person.
- excluded: cancelled contracts; clients with an open case, or with a case created in the last
  `dedupe_months` months before the as-of date.
- the case's due date is the earliest due date of its contracts; window = due ± contact_window_days.
  Calling may start on the first business day of the window (or the as-of day for a late case).
- priority = max family weight of its contracts + client kind weight
             + min(cap, floor(total premium / premium step)); weights in settings.
- advisor: the client's advisor of record when active and of the client's agency; otherwise the
  least-loaded active advisor of that agency (load = open cases, ties by lowest id), counting the
  cases this run assigns; never an advisor of another agency. No active advisor: unassigned.
"""
from __future__ import annotations

import heapq
import json
import logging
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, Engine, Float, cast, func, or_, select, text

from config import Settings, get_settings
from states.calendar import PARIS, contact_window, due_date, is_business_day, month_bounds, previous_month
from store import audit
from store.snapshot import ADVISOR, CASE, CASE_CONTRACT, CLIENT, CONTRACT

log = logging.getLogger("m3.cohort")
ACTOR = "system:cohort"
RUN_TIME = time(6)  # the scheduled hour (Paris): the timestamp of a replayed run


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

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("due_date", "window_start", "window_end", "call_from"):
            d[k] = d[k].isoformat()
        d["contract_ids"] = list(self.contract_ids)
        d["families"] = list(self.families)
        return d


@dataclass
class CohortResult:
    month: str
    as_of: date
    dry_run: bool
    cases: list[PlannedCase] = field(default_factory=list)
    contracts: int = 0

    @property
    def late(self) -> int:
        return sum(c.late for c in self.cases)

    def summary(self) -> dict[str, Any]:
        by_agency = Counter(c.agency_id for c in self.cases)
        by_advisor = Counter(c.advisor or "(non attribué)" for c in self.cases)
        by_family = Counter(f for c in self.cases for f in c.families)
        return {"month": self.month, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "cases": len(self.cases), "contracts": self.contracts, "late": self.late,
                "by_agency": dict(sorted(by_agency.items())), "by_advisor": dict(sorted(by_advisor.items())),
                "by_family": dict(sorted(by_family.items()))}


def effective_range(month: str) -> tuple[date, date]:
    """The effective dates whose due date falls in `month`: the whole month three months before."""
    first, _ = month_bounds(month)
    return month_bounds(f"{first - relativedelta(months=3):%Y-%m}")


def priority(families: set[str], kind: str, premium: float, s: Settings) -> int:
    """max family weight + client kind weight + min(cap, floor(premium / step)): see the module doc."""
    weights = s.priority_weight_family
    fam = max([weights.get(f, 0) for f in families], default=0)
    prem = min(s.priority_premium_cap, int(premium // s.priority_premium_step_eur)) if premium > 0 else 0
    return fam + s.priority_weight_kind.get(kind, 0) + prem


def _eligible(conn: Connection, month: str, as_of: date, s: Settings):
    start, end = effective_range(month)
    catch_start, catch_end = effective_range(previous_month(month))
    cutoff = datetime.combine(as_of - relativedelta(months=s.dedupe_months), time(0), PARIS)
    f = CASE.alias("f")
    blocked = select(f.c.id).where(
        f.c.client_id == CONTRACT.c.client_id,
        or_(f.c.state != "cloture", f.c.created_at >= cutoff)).exists()
    covered = select(CASE_CONTRACT.c.case_id).where(CASE_CONTRACT.c.contract_id == CONTRACT.c.id).exists()
    stmt = (
        select(CONTRACT.c.client_id, CONTRACT.c.id, CONTRACT.c.effective_date, CONTRACT.c.family,
               func.coalesce(cast(CONTRACT.c.premium_eur, Float), 0.0), CLIENT.c.kind, CLIENT.c.agency_id,
               CLIENT.c.advisor_id)
        .join(CLIENT, CLIENT.c.id == CONTRACT.c.client_id)
        .where(CONTRACT.c.status == "active", CONTRACT.c.effective_date.between(catch_start, end),
               ~covered, ~blocked)
        .order_by(CONTRACT.c.client_id, CONTRACT.c.id)
    )
    return conn.execute(stmt).all(), start


def _first_call_day(window_start: date, as_of: date) -> date:
    day = max(window_start, as_of)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def plan(conn: Connection, month: str, as_of: date, settings: Settings | None = None) -> CohortResult:
    """What the cohort of `month` creates when run on `as_of`; writes nothing."""
    s = settings or get_settings()
    rows, month_start = _eligible(conn, month, as_of, s)
    result = CohortResult(month, as_of, dry_run=True, contracts=len(rows))
    dues: dict[date, tuple[date, date, date, date]] = {}  # effective -> (due, window start/end, call from)
    groups: list[tuple] = []
    cur, acc = None, None
    for client_id, contract_id, eff, family, premium, kind, agency, adv in rows:
        if client_id != cur:
            cur = client_id
            acc = [client_id, agency, adv, kind, [], set(), eff, 0.0, False]
            groups.append(acc)
        acc[4].append(contract_id)
        acc[5].add(family)
        if eff < acc[6]:
            acc[6] = eff
        acc[7] += premium
        if eff < month_start:
            acc[8] = True
    advisors = conn.execute(select(ADVISOR.c.id, ADVISOR.c.name, ADVISOR.c.agency_id).where(ADVISOR.c.active)).all()
    names = {a.id: a.name for a in advisors}
    agency_of = {a.id: a.agency_id for a in advisors}
    loads = dict(conn.execute(select(CASE.c.assigned_advisor_id, func.count()).where(
        CASE.c.state != "cloture", CASE.c.assigned_advisor_id.is_not(None)).group_by(CASE.c.assigned_advisor_id)).all())
    # Advisors of record first (they are not a choice), then the rest go to the least loaded.
    chosen: list[int | None] = []
    for g in groups:
        adv = g[2] if g[2] is not None and agency_of.get(g[2]) == g[1] else None
        chosen.append(adv)
        if adv is not None:
            loads[adv] = loads.get(adv, 0) + 1
    heaps: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a in advisors:
        heaps[a.agency_id].append((loads.get(a.id, 0), a.id))
    for h in heaps.values():
        heapq.heapify(h)
    for i, g in enumerate(groups):
        if chosen[i] is None and heaps.get(g[1]):
            load, adv = heapq.heappop(heaps[g[1]])
            heapq.heappush(heaps[g[1]], (load + 1, adv))
            chosen[i] = adv
    for g, adv in zip(groups, chosen):
        client_id, agency, _, kind, contract_ids, families, eff, premium, late = g
        d = dues.get(eff)
        if d is None:
            due = due_date(eff)
            ws, we = contact_window(due, s.contact_window_days)
            d = dues[eff] = (due, ws, we, _first_call_day(ws, as_of))
        result.cases.append(PlannedCase(
            client_id, agency, tuple(contract_ids), tuple(sorted(families)), d[0], d[1], d[2], d[3],
            priority(families, kind, premium, s), late, adv, names.get(adv)))
    return result


def _allocate_ids(conn: Connection, n: int) -> list[int]:
    if conn.dialect.name == "postgresql":
        return list(conn.execute(text(
            "SELECT nextval(pg_get_serial_sequence('followup_case', 'id')) FROM generate_series(1, :n)"),
            {"n": n}).scalars())
    # SQLite: the transaction began IMMEDIATE, so nobody else can take these ids meanwhile.
    top = conn.execute(select(func.coalesce(func.max(CASE.c.id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + n))


_PLAIN = re.compile(r"[A-Za-z0-9 _.:/+-]*")


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _js_strings(values: tuple[str, ...]) -> str:
    """A JSON list of strings; ids without characters JSON escapes skip json.dumps (hot path)."""
    if all(_PLAIN.fullmatch(v) for v in values):
        return '["' + '","'.join(values) + '"]'
    return _js(list(values))


def opening_record(case_id: int, c: PlannedCase, month: str, at_js: str) -> tuple[str, str]:
    """(changes as JSON, audit hash) of a case's opening record, byte for byte what store.audit
    computes from store.cases.opening_changes (a test checks it), without its two json round trips
    per record: at 27,000 cases they were most of the cohort's time."""
    adv = "null" if c.advisor_id is None else str(int(c.advisor_id))
    changes = (f'{{"assigned_advisor_id":[null,{adv}],"cohort_month":[null,{_js(month)}],'
               f'"contracts":[null,{_js_strings(c.contract_ids)}],"due_date":[null,"{c.due_date.isoformat()}"],'
               f'"late":[null,{"true" if c.late else "false"}],"priority":[null,{int(c.priority)}],'
               f'"state":[null,"a_contacter"]}}')
    body = (f'{{"action":"ouverture","actor":{_js(ACTOR)},"at":{at_js},"case_id":{case_id},'
            f'"changes":{changes},"reason":null,"seq":1}}')
    return changes, audit.chain_hash(audit.GENESIS, body)


def _bulk_insert(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple], raw: tuple[str, ...] = ()) -> None:
    """executemany on the driver: SQLAlchemy's per-row statement compilation and type processing
    cost more than the INSERT itself here. Values go through each column's bind processor (dates
    and times as the dialect stores them), memoised since a cohort has few distinct dates;
    `raw` columns are passed as they are (pre-serialised JSON)."""
    dialect = conn.dialect
    procs = [(i, table.c[col].type._cached_bind_processor(dialect)) for i, col in enumerate(columns) if col not in raw]
    procs = [(i, p) for i, p in procs if p is not None]
    if procs and rows:
        cols = list(zip(*rows))
        for i, p in procs:
            cache: dict[Any, Any] = {}
            cols[i] = [cache[v] if v in cache else cache.setdefault(v, p(v)) for v in cols[i]]
        rows = list(zip(*cols))
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f'INSERT INTO {table.name} ({", ".join(columns)}) VALUES ({", ".join([mark] * len(columns))})'
    conn.exec_driver_sql(sql, rows)


_CASE_COLUMNS = ("id", "client_id", "agency_id", "cohort_month", "due_date", "window_start", "window_end", "state",
                 "assigned_advisor_id", "priority", "escalation_step", "late", "assignment_confirmed",
                 "nothing_elsewhere", "created_at", "updated_at", "version", "audit_seq", "audit_head")
_AUDIT_COLUMNS = ("case_id", "seq", "at", "actor", "action", "changes", "reason", "prev_hash", "hash")


def apply(conn: Connection, result: CohortResult, now: datetime) -> None:
    """Write the planned cases, their contract links and opening audit records (bulk)."""
    result.dry_run = False
    if not result.cases:
        return
    now = now.astimezone(timezone.utc)
    at_js = _js(now.isoformat())
    ids = _allocate_ids(conn, len(result.cases))
    cases, links, records = [], [], []
    month = result.month
    for case_id, c in zip(ids, result.cases):
        changes, digest = opening_record(case_id, c, month, at_js)
        records.append((case_id, 1, now, ACTOR, "ouverture", changes, None, audit.GENESIS, digest))
        cases.append((case_id, c.client_id, c.agency_id, month, c.due_date, c.window_start, c.window_end,
                      "a_contacter", c.advisor_id, c.priority, 0, c.late, False, False, now, now, 1, 1, digest))
        links.extend((case_id, k) for k in c.contract_ids)
        c.case_id = case_id
    _bulk_insert(conn, CASE, _CASE_COLUMNS, cases)
    _insert_links(conn, links)
    _insert_audit(conn, records)


def _insert_links(conn: Connection, links: list[tuple]) -> None:
    _bulk_insert(conn, CASE_CONTRACT, ("case_id", "contract_id"), links)


def _insert_audit(conn: Connection, records: list[tuple]) -> None:
    _bulk_insert(conn, audit.AUDIT, _AUDIT_COLUMNS, records, raw=("changes",))


def run_cohort(engine: Engine, month: str, as_of: date, now: datetime, dry_run: bool = False,
               settings: Settings | None = None) -> CohortResult:
    """Plan and (unless dry_run) create the month's cases in one transaction."""
    if dry_run:
        with engine.connect() as conn:
            result = plan(conn, month, as_of, settings)
            conn.rollback()
    else:
        with engine.begin() as conn:
            result = plan(conn, month, as_of, settings)
            apply(conn, result, now)
    log.info("cohort %s: %s cases, %s late, %s contracts%s", month, len(result.cases), result.late,
             result.contracts, " (dry run)" if dry_run else "")
    return result


def summary_markdown(result: CohortResult) -> str:
    """The run's summary for a person (the Prefect artifact and `m3 cohort`'s report)."""
    s = result.summary()
    verb = "à créer (simulation)" if result.dry_run else "créés"
    lines = [f"# Cohorte M+3 {result.month}", "",
             f"Au {result.as_of:%d/%m/%Y} : **{s['cases']} dossiers {verb}** pour {s['contracts']} contrats, "
             f"dont **{s['late']} en retard** (rattrapage du mois précédent).", ""]
    for title, key, col in (("Par agence", "by_agency", "agence"), ("Par conseiller", "by_advisor", "conseiller"),
                            ("Par famille (contrats)", "by_family", "famille")):
        lines += [f"## {title}", "", f"| {col} | nombre |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in s[key].items()] or ["| — | 0 |"]
        lines.append("")
    late = [c for c in result.cases if c.late]
    if late:
        lines += ["## Dossiers en retard", "", "| client | contrats | échéance | conseiller |", "|---|---|---|---|"]
        lines += [f"| {c.client_id} | {', '.join(c.contract_ids)} | {c.due_date:%d/%m/%Y} | {c.advisor or '—'} |"
                  for c in late[:200]]
        if len(late) > 200:
            lines.append(f"| … {len(late) - 200} autres | | | |")
    return "\n".join(lines) + "\n"
