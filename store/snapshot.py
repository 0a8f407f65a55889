"""Build the domain's CaseSnapshot from rows, loading only the parts a change needs.

The statements are built once, at import, with bind parameters: building a Core statement per
call and computing its cache key cost more than running it on SQLite (bench/bench_write_path.py).
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import Connection, Row, bindparam, select

from states.records import (
    ActionKind, ActionRecord, ActionStatus, AdvisorRecord, AttemptOutcome, AttemptRecord, CaseSnapshot, Channel,
    ClientKind, ClientRecord, ContractRecord, Family, Held, InventoryRecord, OutcomeKind, RequirementRecord,
    RequirementStatus,
)
from store.tables import (
    Advisor, BilanOutcome, CaseContract, Client, ContactAttempt, Contract, ContractRequirement, FollowupCase,
    InventoryLine, PlannedAction,
)

CASE = FollowupCase.__table__
CLIENT = Client.__table__
CONTRACT = Contract.__table__
CASE_CONTRACT = CaseContract.__table__
REQUIREMENT = ContractRequirement.__table__
ATTEMPT = ContactAttempt.__table__
INVENTORY = InventoryLine.__table__
OUTCOME = BilanOutcome.__table__
ACTION = PlannedAction.__table__
ADVISOR = Advisor.__table__

ALL_PARTS = frozenset({"client", "contracts", "attempts", "inventory", "outcomes", "actions"})

_CLIENT_FIELDS = [f for f in ClientRecord.__dataclass_fields__ if f != "kind"]

_BY_CASE = bindparam("case_id")
_CASE_BY_ID = select(CASE).where(CASE.c.id == _BY_CASE)
_CLIENT_BY_ID = select(CLIENT).where(CLIENT.c.id == bindparam("client_id"))
# The case and its client in one round trip, for the many changes that read the client: the
# client's columns come after the case's, in ClientRecord's field order (kind first).
_CASE_CLIENT_COLUMNS = ["kind", *_CLIENT_FIELDS]
_N_CASE_COLUMNS = len(CASE.c)
_CASE_WITH_CLIENT = (
    select(CASE, *[CLIENT.c[f].label(f"client__{f}") for f in _CASE_CLIENT_COLUMNS])
    .select_from(CASE.outerjoin(CLIENT, CLIENT.c.id == CASE.c.client_id))
    .where(CASE.c.id == _BY_CASE)
)
_CONTRACTS = (select(CONTRACT).join(CASE_CONTRACT, CASE_CONTRACT.c.contract_id == CONTRACT.c.id)
              .where(CASE_CONTRACT.c.case_id == _BY_CASE).order_by(CONTRACT.c.id))
_REQUIREMENTS = select(REQUIREMENT).where(REQUIREMENT.c.contract_id.in_(bindparam("ids", expanding=True)))
_ATTEMPTS = select(ATTEMPT).where(ATTEMPT.c.case_id == _BY_CASE).order_by(ATTEMPT.c.at)
_INVENTORY = select(INVENTORY).where(INVENTORY.c.case_id == _BY_CASE).order_by(INVENTORY.c.id)
_OUTCOMES = select(OUTCOME).where(OUTCOME.c.case_id == _BY_CASE).order_by(OUTCOME.c.id)
_ACTIONS = select(ACTION).where(ACTION.c.case_id == _BY_CASE).order_by(ACTION.c.id)
_ADVISORS = select(ADVISOR).where(ADVISOR.c.id.in_(bindparam("ids", expanding=True)))


def case_row(conn: Connection, case_id: int) -> Row | None:
    return conn.execute(_CASE_BY_ID, {"case_id": case_id}).first()


def case_row_with_client(conn: Connection, case_id: int) -> tuple[Row | None, ClientRecord | None]:
    """The case row (its columns by name, as case_row's) and its client, in one SELECT."""
    row = conn.execute(_CASE_WITH_CLIENT, {"case_id": case_id}).first()
    if row is None:
        return None, None
    values = row[_N_CASE_COLUMNS:]
    if values[1] is None:  # no client row: let the plain query raise as it always did
        return row, None
    return row, ClientRecord(kind=ClientKind(values[0]), **dict(zip(_CLIENT_FIELDS, values[1:])))


def client_record(row: Row) -> ClientRecord:
    m = row._mapping
    return ClientRecord(kind=ClientKind(m["kind"]), **{f: m[f] for f in _CLIENT_FIELDS})


def _contracts(conn: Connection, case_id: int) -> tuple[ContractRecord, ...]:
    rows = conn.execute(_CONTRACTS, {"case_id": case_id}).all()
    reqs: dict[str, dict[str, RequirementRecord]] = {}
    if rows:
        for r in conn.execute(_REQUIREMENTS, {"ids": [c.id for c in rows]}):
            reqs.setdefault(r.contract_id, {})[r.code] = RequirementRecord(
                r.code, RequirementStatus(r.status), r.waiver_reason)
    return tuple(
        ContractRecord(c.id, Family(c.family), c.product, c.effective_date, c.status == "active", c.premium_eur,
                       reqs.get(c.id, {}))
        for c in rows
    )


def advisors(conn: Connection, ids: Iterable[int]) -> dict[int, AdvisorRecord]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    rows = conn.execute(_ADVISORS, {"ids": ids}).all()
    return {r.id: AdvisorRecord(r.id, r.name, r.agency_id, r.active) for r in rows}


def snapshot(conn: Connection, case: Row, needs: frozenset[str] = ALL_PARTS,
             advisor_ids: Iterable[int] = (), client: ClientRecord | None = None) -> CaseSnapshot:
    """`client`: the case's client when the caller already has it (case_row_with_client)."""
    cid = case.id
    parts: dict = {}
    if "client" in needs:
        parts["client"] = client if client is not None else client_record(
            conn.execute(_CLIENT_BY_ID, {"client_id": case.client_id}).one())
    if "contracts" in needs:
        parts["contracts"] = _contracts(conn, cid)
    if "attempts" in needs:
        parts["attempts"] = tuple(
            AttemptRecord(Channel(r.channel), r.at, AttemptOutcome(r.outcome))
            for r in conn.execute(_ATTEMPTS, {"case_id": cid}))
    if "inventory" in needs:
        parts["inventory"] = tuple(
            InventoryRecord(Family(r.family), r.product, Held(r.held), r.insurer, r.renewal_date)
            for r in conn.execute(_INVENTORY, {"case_id": cid}))
    if "outcomes" in needs:
        parts["outcomes"] = tuple(
            OutcomeKind(r.kind)
            for r in conn.execute(_OUTCOMES, {"case_id": cid}))
    if "actions" in needs:
        parts["actions"] = tuple(
            ActionRecord(r.id, ActionKind(r.kind), r.owner_id, r.due_date, ActionStatus(r.status))
            for r in conn.execute(_ACTIONS, {"case_id": cid}))
    return CaseSnapshot(
        id=cid, state=case.state, version=case.version, assigned_advisor_id=case.assigned_advisor_id,
        assignment_confirmed=case.assignment_confirmed, nothing_elsewhere=case.nothing_elsewhere,
        closing_reason=case.closing_reason, escalation_step=case.escalation_step, audit_seq=case.audit_seq,
        advisors=advisors(conn, advisor_ids), **parts,
    )
