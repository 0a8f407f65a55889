"""Build the domain's CaseSnapshot from rows, loading only the parts a change needs."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import Connection, Row, select

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


def case_row(conn: Connection, case_id: int) -> Row | None:
    stmt = select(CASE).where(CASE.c.id == case_id)
    return conn.execute(stmt).first()


def client_record(row: Row) -> ClientRecord:
    m = row._mapping
    return ClientRecord(kind=ClientKind(m["kind"]), **{f: m[f] for f in _CLIENT_FIELDS})


def _contracts(conn: Connection, case_id: int) -> tuple[ContractRecord, ...]:
    rows = conn.execute(
        select(CONTRACT).join(CASE_CONTRACT, CASE_CONTRACT.c.contract_id == CONTRACT.c.id)
        .where(CASE_CONTRACT.c.case_id == case_id).order_by(CONTRACT.c.id)
    ).all()
    reqs: dict[str, dict[str, RequirementRecord]] = {}
    if rows:
        for r in conn.execute(select(REQUIREMENT).where(REQUIREMENT.c.contract_id.in_([c.id for c in rows]))):
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
    rows = conn.execute(select(ADVISOR).where(ADVISOR.c.id.in_(ids))).all()
    return {r.id: AdvisorRecord(r.id, r.name, r.agency_id, r.active) for r in rows}


def snapshot(conn: Connection, case: Row, needs: frozenset[str] = ALL_PARTS,
             advisor_ids: Iterable[int] = ()) -> CaseSnapshot:
    cid = case.id
    parts: dict = {}
    if "client" in needs:
        parts["client"] = client_record(conn.execute(select(CLIENT).where(CLIENT.c.id == case.client_id)).one())
    if "contracts" in needs:
        parts["contracts"] = _contracts(conn, cid)
    if "attempts" in needs:
        parts["attempts"] = tuple(
            AttemptRecord(Channel(r.channel), r.at, AttemptOutcome(r.outcome))
            for r in conn.execute(select(ATTEMPT).where(ATTEMPT.c.case_id == cid).order_by(ATTEMPT.c.at)))
    if "inventory" in needs:
        parts["inventory"] = tuple(
            InventoryRecord(Family(r.family), r.product, Held(r.held), r.insurer, r.renewal_date)
            for r in conn.execute(select(INVENTORY).where(INVENTORY.c.case_id == cid).order_by(INVENTORY.c.id)))
    if "outcomes" in needs:
        parts["outcomes"] = tuple(
            OutcomeKind(r.kind)
            for r in conn.execute(select(OUTCOME).where(OUTCOME.c.case_id == cid).order_by(OUTCOME.c.id)))
    if "actions" in needs:
        parts["actions"] = tuple(
            ActionRecord(r.id, ActionKind(r.kind), r.owner_id, r.due_date, ActionStatus(r.status))
            for r in conn.execute(select(ACTION).where(ACTION.c.case_id == cid).order_by(ACTION.c.id)))
    return CaseSnapshot(
        id=cid, state=case.state, version=case.version, assigned_advisor_id=case.assigned_advisor_id,
        assignment_confirmed=case.assignment_confirmed, nothing_elsewhere=case.nothing_elsewhere,
        closing_reason=case.closing_reason, escalation_step=case.escalation_step,
        advisors=advisors(conn, advisor_ids), **parts,
    )
