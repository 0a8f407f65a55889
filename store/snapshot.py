"""Build the domain's CaseSnapshot from rows, loading only the parts a change needs.

The statements are built once, at import, with bind parameters: building a Core statement per
call and computing its cache key cost more than running it on SQLite (bench/bench_write_path.py).
The case's own reads run on the driver's cursor (store/driver_sql.py: same SQL, same result
processing, ~15-30 µs less per read on SQLite).
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import Connection, Row, bindparam, select

from store import driver_sql
from states.records import (
    ActionKind, ActionRecord, ActionStatus, AdvisorRecord, AttemptOutcome, AttemptRecord, CaseSnapshot, Channel,
    ClientKind, ClientRecord, ContractRecord, Family, Held, InventoryRecord, OutcomeKind, RequirementRecord,
    RequirementStatus,
)
from states.records import TopicKind, TopicRecord, TopicStatus
from states.records import AppointmentChannel, AppointmentRecord, AppointmentStatus, CallBasis, Direction
from store.tables import Appointment
from store.tables import CaseNote, CaseTopic
from states.records import ClientDecision, DecisionRecord, DevisStatus, OutcomeRecord, SuggestionDecision
from store.tables import AuditRecord, BilanRecord, BilanSuggestionDecision
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
NOTE = CaseNote.__table__
TOPIC = CaseTopic.__table__
APPOINTMENT = Appointment.__table__
DECISION = BilanSuggestionDecision.__table__
BILAN_RECORD = BilanRecord.__table__
_AUDIT = AuditRecord.__table__

ALL_PARTS = frozenset({"client", "contracts", "attempts", "inventory", "outcomes", "actions", "topics",
                       "appointments"})
ALL_PARTS |= {"decisions"}  # the bilan's suggestions and their decisions (states/bilan.py)

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
_CONTRACT_IDS = (select(CASE_CONTRACT.c.contract_id).where(CASE_CONTRACT.c.case_id == _BY_CASE)
                 .order_by(CASE_CONTRACT.c.contract_id))
_REQUIREMENTS = select(REQUIREMENT).where(REQUIREMENT.c.contract_id.in_(bindparam("ids", expanding=True)))
_ATTEMPTS = select(ATTEMPT).where(ATTEMPT.c.case_id == _BY_CASE).order_by(ATTEMPT.c.at)
_INVENTORY = select(INVENTORY).where(INVENTORY.c.case_id == _BY_CASE).order_by(INVENTORY.c.id)
_OUTCOMES = select(OUTCOME).where(OUTCOME.c.case_id == _BY_CASE).order_by(OUTCOME.c.id)
_ACTIONS = select(ACTION).where(ACTION.c.case_id == _BY_CASE).order_by(ACTION.c.id)
_TOPICS = select(TOPIC).where(TOPIC.c.case_id == _BY_CASE).order_by(TOPIC.c.id)
_APPOINTMENTS = select(APPOINTMENT).where(APPOINTMENT.c.case_id == _BY_CASE).order_by(APPOINTMENT.c.at)
_ADVISORS = select(ADVISOR).where(ADVISOR.c.id.in_(bindparam("ids", expanding=True)))
# The bilan's parts (states/bilan.py): every active contract of the client, the suggestion
# decisions, how many bilans were frozen, the audit seqs of the case's client corrections.
_CLIENT_CONTRACTS = (select(CONTRACT).where(CONTRACT.c.client_id == bindparam("client_id"),
                                            CONTRACT.c.status == "active").order_by(CONTRACT.c.id))
_DECISIONS = select(DECISION).where(DECISION.c.case_id == _BY_CASE).order_by(DECISION.c.id)
_BILAN_COUNT = select(BILAN_RECORD.c.seq).where(BILAN_RECORD.c.case_id == _BY_CASE).order_by(
    BILAN_RECORD.c.seq.desc()).limit(1)
_CORRECTION_SEQS = select(_AUDIT.c.seq).where(_AUDIT.c.case_id == _BY_CASE,
                                              _AUDIT.c.action == "correct_client").order_by(_AUDIT.c.seq)


def case_row(conn: Connection, case_id: int) -> Row | None:
    return driver_sql.first(conn, _CASE_BY_ID, {"case_id": case_id})


def case_row_with_client(conn: Connection, case_id: int) -> tuple[Row | None, ClientRecord | None]:
    """The case row (its columns by name, as case_row's) and its client, in one SELECT."""
    row = driver_sql.first(conn, _CASE_WITH_CLIENT, {"case_id": case_id})
    if row is None:
        return None, None
    values = row[_N_CASE_COLUMNS:]
    if values[1] is None:  # no client row: let the plain query raise as it always did
        return row, None
    return row, ClientRecord(kind=ClientKind(values[0]), **dict(zip(_CLIENT_FIELDS, values[1:])))


def client_of(conn: Connection, case: Row) -> ClientRecord:
    return client_record(conn.execute(_CLIENT_BY_ID, {"client_id": case.client_id}).one())


def client_record(row: Row) -> ClientRecord:
    m = row._mapping
    return ClientRecord(kind=ClientKind(m["kind"]), **{f: m[f] for f in _CLIENT_FIELDS})


def _contracts(conn: Connection, case_id: int) -> tuple[ContractRecord, ...]:
    rows = contract_rows(conn, case_id)
    return contract_records(rows, requirement_rows(conn, rows))


def contract_rows(conn: Connection, case_id: int) -> list[Row]:
    """The case's contracts, by id."""
    return driver_sql.rows(conn, _CONTRACTS, {"case_id": case_id})


def requirement_rows(conn: Connection, contracts: list[Row]) -> list[Row]:
    """The signatures and documents of these contracts (no statement when there are none)."""
    return conn.execute(_REQUIREMENTS, {"ids": [c.id for c in contracts]}).all() if contracts else []  # an IN list


def contract_records(contracts: Iterable[Row], requirements: Iterable[Row]) -> tuple[ContractRecord, ...]:
    reqs: dict[str, dict[str, RequirementRecord]] = {}
    for r in requirements:
        reqs.setdefault(r.contract_id, {})[r.code] = RequirementRecord(r.code, RequirementStatus(r.status),
                                                                       r.waiver_reason)
    return tuple(
        ContractRecord(c.id, Family(c.family), c.product, c.effective_date, c.status == "active", c.premium_eur,
                       reqs.get(c.id, {}))
        for c in contracts
    )


# One row of a part -> its domain record: snapshot() and store/case_read.py (the case detail,
# which reads each table once and renders the same rows) build the records the same way.
def attempt_record(r: Row) -> AttemptRecord:
    return AttemptRecord(Channel(r.channel), r.at, AttemptOutcome(r.outcome), Direction(r.direction),
                         CallBasis(r.basis) if r.basis else None, r.appointment_id)


def appointment_record(r: Row) -> AppointmentRecord:
    return AppointmentRecord(r.id, r.at, AppointmentChannel(r.channel), AppointmentStatus(r.status), r.advisor_id,
                             r.client_agreed)


def inventory_record(r: Row) -> InventoryRecord:
    return InventoryRecord(Family(r.family), r.product, Held(r.held), r.insurer, r.renewal_date, r.contract_id, r.id)


def outcome_record(r: Row) -> OutcomeRecord:
    return OutcomeRecord(r.id, OutcomeKind(r.kind), r.detail, r.suggestion_code,
                         ClientDecision(r.client_decision) if r.client_decision else None, r.answer, r.topic_id,
                         r.action_id, r.correction_seq)


def decision_record(r: Row) -> DecisionRecord:
    return DecisionRecord(r.code, SuggestionDecision(r.decision), r.reason, r.outcome_id, r.action_id, r.at)


def topic_record(r: Row) -> TopicRecord:
    return TopicRecord(r.id, TopicKind(r.kind), r.occurred_on, r.summary, TopicStatus(r.status), r.answer)


def action_record(r: Row) -> ActionRecord:
    return ActionRecord(r.id, ActionKind(r.kind), r.owner_id, r.due_date, ActionStatus(r.status), r.label,
                        DevisStatus(r.devis_status) if r.devis_status else None)


def advisor_record(r: Row) -> AdvisorRecord:
    return AdvisorRecord(r.id, r.name, r.agency_id, r.active)


def advisors(conn: Connection, ids: Iterable[int]) -> dict[int, AdvisorRecord]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    rows = conn.execute(_ADVISORS, {"ids": ids}).all()
    return {r.id: advisor_record(r) for r in rows}


def _letters(conn: Connection, case_id: int):
    from states.records import LetterRecord
    from store.tables import Notification

    n = Notification.__table__
    return tuple(LetterRecord(r.id, r.created_at, r.status, r.posted_on) for r in conn.execute(
        select(n.c.id, n.c.created_at, n.c.status, n.c.posted_on)
        .where(n.c.case_id == case_id, n.c.kind == "client_letter").order_by(n.c.id)))


def snapshot(conn: Connection, case: Row, needs: frozenset[str] = ALL_PARTS,
             advisor_ids: Iterable[int] = (), client: ClientRecord | None = None) -> CaseSnapshot:
    """`client`: the case's client when the caller already has it (case_row_with_client)."""
    cid = case.id
    parts: dict = {}
    if "client" in needs:
        parts["client"] = client if client is not None else client_of(conn, case)
    if "contracts" in needs:
        parts["contracts"] = _contracts(conn, cid)
    if "contract_ids" in needs:  # the ids alone, one light query (a contract joining the case)
        parts["contract_ids"] = tuple(conn.execute(_CONTRACT_IDS, {"case_id": cid}).scalars())
    if "attempts" in needs:
        parts["attempts"] = tuple(attempt_record(r) for r in driver_sql.rows(conn, _ATTEMPTS, {"case_id": cid}))
    if "appointments" in needs:
        parts["appointments"] = tuple(appointment_record(r)
                                      for r in driver_sql.rows(conn, _APPOINTMENTS, {"case_id": cid}))
    if "inventory" in needs:
        parts["inventory"] = tuple(inventory_record(r) for r in driver_sql.rows(conn, _INVENTORY, {"case_id": cid}))
    if "outcomes" in needs:
        records = tuple(outcome_record(r) for r in driver_sql.rows(conn, _OUTCOMES, {"case_id": cid}))
        parts["outcomes"] = tuple(o.kind for o in records)
        parts["outcome_records"] = records
    if "client_contracts" in needs:
        parts["client_contracts"] = tuple(
            ContractRecord(c.id, Family(c.family), c.product, c.effective_date, True, c.premium_eur)
            for c in driver_sql.rows(conn, _CLIENT_CONTRACTS, {"client_id": case.client_id}))
    if "decisions" in needs:
        parts["decisions"] = tuple(decision_record(r) for r in driver_sql.rows(conn, _DECISIONS, {"case_id": cid}))
    if "bilans" in needs:
        parts["bilan_count"] = conn.execute(_BILAN_COUNT, {"case_id": cid}).scalar() or 0
        if case.assigned_advisor_id:  # the record names the case's advisor
            advisor_ids = [*advisor_ids, case.assigned_advisor_id]
    if "correction_seqs" in needs:
        parts["correction_seqs"] = tuple(conn.execute(_CORRECTION_SEQS, {"case_id": cid}).scalars())
    if "topics" in needs:
        parts["topics"] = tuple(topic_record(r) for r in driver_sql.rows(conn, _TOPICS, {"case_id": cid}))
    if "actions" in needs:
        parts["actions"] = tuple(action_record(r) for r in driver_sql.rows(conn, _ACTIONS, {"case_id": cid}))
    if "letters" in needs:  # the case's postal letters (states/letters.py)
        parts["letters"] = _letters(conn, cid)
    return snapshot_of(case, parts, advisors(conn, advisor_ids))


def snapshot_of(case: Row, parts: dict, advisors: dict[int, AdvisorRecord]) -> CaseSnapshot:
    """The snapshot of a case row with the parts already built (the keyword arguments of CaseSnapshot)."""
    return CaseSnapshot(
        id=case.id, state=case.state, version=case.version, assigned_advisor_id=case.assigned_advisor_id,
        assignment_confirmed=case.assignment_confirmed, nothing_elsewhere=case.nothing_elsewhere,
        closing_reason=case.closing_reason, escalation_step=case.escalation_step, audit_seq=case.audit_seq,
        advisors=advisors, **parts,
        agency_id=case.agency_id, created_at=case.created_at, window_start=case.window_start,
        window_end=case.window_end, reached_at=case.reached_at,
    )


# Many cases at once (store.write_path.execute_batch_in): the same rows as case_row_with_client
# and the "contract_ids" part, one statement per CHUNK cases instead of two per case.
CHUNK = 5000  # ids per IN list: well under SQLite's 32,766 variables
_CASES_WITH_CLIENT = (select(*_CASE_WITH_CLIENT.selected_columns)
                      .select_from(CASE.outerjoin(CLIENT, CLIENT.c.id == CASE.c.client_id))
                      .where(CASE.c.id.in_(bindparam("ids", expanding=True))))
_CONTRACT_IDS_OF_CASES = (select(CASE_CONTRACT.c.case_id, CASE_CONTRACT.c.contract_id)
                          .where(CASE_CONTRACT.c.case_id.in_(bindparam("ids", expanding=True)))
                          .order_by(CASE_CONTRACT.c.case_id, CASE_CONTRACT.c.contract_id))


def case_rows_with_client(conn: Connection, case_ids: list[int], for_update: bool = False
                          ) -> dict[int, tuple[Row, ClientRecord | None]]:
    """case id -> (case row, its client) as case_row_with_client gives them, for many cases.
    `for_update` (PostgreSQL): the case rows stay locked until the transaction ends, so the
    versions read here are the ones the UPDATEs will meet."""
    stmt = _CASES_WITH_CLIENT.with_for_update(of=CASE) if for_update else _CASES_WITH_CLIENT
    out: dict[int, tuple[Row, ClientRecord | None]] = {}
    for start in range(0, len(case_ids), CHUNK):
        for row in conn.execute(stmt, {"ids": case_ids[start:start + CHUNK]}):
            values = row[_N_CASE_COLUMNS:]
            client = None if values[1] is None else ClientRecord(
                kind=ClientKind(values[0]), **dict(zip(_CLIENT_FIELDS, values[1:])))
            out[row.id] = (row, client)
    return out


def contract_ids_of_cases(conn: Connection, case_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """case id -> its contract ids, sorted (the "contract_ids" part), for many cases."""
    acc: dict[int, list[str]] = {i: [] for i in case_ids}
    for start in range(0, len(case_ids), CHUNK):
        for case_id, contract_id in conn.execute(_CONTRACT_IDS_OF_CASES, {"ids": case_ids[start:start + CHUNK]}):
            acc[case_id].append(contract_id)
    return {k: tuple(v) for k, v in acc.items()}
