"""The one write path. Every change to a case, from the API, the pages or a flow, comes here.

In one transaction: load the case, check the expected version, let the domain decide (guards,
calling rules), apply the effects, append the audit record, enqueue the notifications, commit.
Optimistic locking: the UPDATE of the case row is conditional on the version the caller read,
so of two writers holding the same version exactly one wins; the other gets VersionConflict
and nothing it did is kept. Nothing else in the code base writes a case.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from states.commands import Command
from states.decide import decide
from states.errors import DomainError
from states.effects import Effects, Insert, Row, Update
from store import audit, redaction
from store.errors import CaseNotFound, UnknownEffect, VersionConflict
from store.snapshot import (
    ACTION, ATTEMPT, CASE, CLIENT, INVENTORY, OUTCOME, REQUIREMENT, case_row, case_row_with_client, snapshot,
)
from store.snapshot import case_rows_with_client, contract_ids_of_cases
from store.snapshot import NOTE, TOPIC
from store.snapshot import APPOINTMENT
from store.snapshot import CASE_CONTRACT
from store.snapshot import BILAN_RECORD, DECISION
from states.effects import ACTOR, AUDIT_SEQ, Ref
from states.effects import Notify
from store.tables import Notification
from store import client_corrections
from store import search_columns
from store import completeness
from store import driver_sql

log = logging.getLogger("m3.write_path")  # ids only: no personal data in logs

NOTIFICATION = Notification.__table__
# Each kind of row the domain may add, and its table. A Row missing here fails loudly (UnknownEffect).
_INSERT_TABLES = {Row.ATTEMPT: ATTEMPT, Row.INVENTORY: INVENTORY, Row.OUTCOME: OUTCOME, Row.ACTION: ACTION}
_INSERT_TABLES.update({Row.NOTE: NOTE, Row.TOPIC: TOPIC})  # notes, claims and questions (states/notes.py)
_INSERT_TABLES.update({Row.APPOINTMENT: APPOINTMENT})  # appointments (states/appointments.py)
_INSERT_TABLES.update({Row.CASE_CONTRACT: CASE_CONTRACT})  # a contract joining the case (states/joins.py)
_INSERT_TABLES.update({Row.DECISION: DECISION, Row.BILAN_RECORD: BILAN_RECORD})  # the bilan (states/bilan.py)
_CHANNEL = {"client_email": "email", "client_letter": "letter"}
# Service emails to the client, addressed when queued (states/appointments.py checked the address).
_CHANNEL.update({"appointment_confirmation": "email", "appointment_cancellation": "email"})
_CHANNEL["bilan_email"] = "email"  # the frozen bilan, its PDF attached (states/bilan.py)

# Statements built once. The SET clause comes from the keys of the parameters passed at execute
# time, and SQLAlchemy caches the compiled form per set of keys: a change pays neither the
# construction of a statement nor its compilation (bench/bench_write_path.py: most of the cost
# of a change was there). The WHERE parameters are prefixed `w_` so they never clash with a
# column being set.
_UPDATE_CASE = update(CASE).where(CASE.c.id == bindparam("w_id"), CASE.c.version == bindparam("w_version"))
_UPDATE_CLIENT = update(CLIENT).where(CLIENT.c.id == bindparam("w_id"))
_UPDATE_ACTION = update(ACTION).where(ACTION.c.id == bindparam("w_id"), ACTION.c.case_id == bindparam("w_case_id"))
_UPDATE_APPOINTMENT = update(APPOINTMENT).where(APPOINTMENT.c.id == bindparam("w_id"),
                                                APPOINTMENT.c.case_id == bindparam("w_case_id"))
_UPDATE_TOPIC = update(TOPIC).where(TOPIC.c.id == bindparam("w_id"), TOPIC.c.case_id == bindparam("w_case_id"))
_UPDATE_OUTCOME = update(OUTCOME).where(OUTCOME.c.id == bindparam("w_id"), OUTCOME.c.case_id == bindparam("w_case_id"))
_UPDATE_DECISION = update(DECISION).where(DECISION.c.code == bindparam("w_code"),
                                          DECISION.c.case_id == bindparam("w_case_id"))
# A frozen bilan record: only its sending marks may ever change (its content is the DDA proof).
_BILAN_SENT = frozenset({"sent_at", "sent_to"})
_UPDATE_BILAN_SENT = update(BILAN_RECORD).where(BILAN_RECORD.c.seq == bindparam("w_seq"),
                                                BILAN_RECORD.c.case_id == bindparam("w_case_id"))
_SET_AUDIT_TIP = update(CASE).where(CASE.c.id == bindparam("w_id"))
_INSERTS = {name: insert(table) for name, table in _INSERT_TABLES.items()}
_INSERT_AUDIT = insert(audit.AUDIT)
_INSERT_NOTIFICATION = insert(NOTIFICATION)
_COLUMNS = {t: frozenset(t.c.keys()) for t in (CASE, CLIENT, ACTION, NOTIFICATION, audit.AUDIT,
                                               *_INSERT_TABLES.values())}


def _run(conn: Connection, stmt, table, params: dict[str, Any], where: dict[str, Any] | None = None) -> Any:
    """Execute a prebuilt statement on the driver's cursor (store/driver_sql.py); keys that are
    not columns fail as `.values()` would."""
    if not params.keys() <= _COLUMNS[table]:
        stmt = stmt.values(params)  # raises "Unconsumed column names", as before
        params = {}
    return driver_sql.execute(conn, stmt, {**params, **where} if where else params)


@dataclass(frozen=True)
class ChangeResult:
    case_id: int
    state: str
    version: int
    audit_seq: int
    action: str
    changes: dict[str, Any]


def execute(db: Engine, case_id: int, expected_version: int, command: Command, actor: str,
            now: datetime) -> ChangeResult:
    """Apply `command` to case `case_id` as `actor` at time `now`, or raise and change nothing."""
    with db.begin() as conn:
        return execute_in(conn, case_id, expected_version, command, actor, now)


def execute_in(conn: Connection, case_id: int, expected_version: int, command: Command, actor: str,
               now: datetime) -> ChangeResult:
    """The same, inside a transaction the caller owns (a flow batching several cases)."""
    needs = command.needs
    if "client" in needs:
        row, client = case_row_with_client(conn, case_id)  # one round trip for both
    else:
        row, client = case_row(conn, case_id), None
    if row is None:
        raise CaseNotFound(case_id)
    if row.version != expected_version:
        raise VersionConflict(case_id, expected_version, row.version)
    case = snapshot(conn, row, needs, command.advisor_ids, client)
    fx = decide(case, command, now)
    return _apply(conn, row, case, fx, actor, now)


def _has_ref(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, dict):
        return any(_has_ref(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_ref(v) for v in value)
    return False


def _resolve(value: Any, refs: dict[str, Any]) -> Any:
    """`value` with every Ref replaced by what it names (a row inserted earlier in the change)."""
    if isinstance(value, Ref):
        if value.name not in refs:
            raise UnknownEffect(value)
        return refs[value.name]
    if isinstance(value, dict):
        return {k: _resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    return value


def _apply(conn: Connection, row, case, fx: Effects, actor: str, now: datetime) -> ChangeResult:
    seq = row.audit_seq + 1
    refs: dict[str, Any] = {ACTOR.name: actor, AUDIT_SEQ.name: seq}
    # Changes that name rows inserted by this change (Ref) are hashed once those ids are known:
    # the case row gets its audit tip in a second UPDATE, after the inserts.
    deferred = _has_ref(fx.changes)
    record = None if deferred else audit.record_values(row.id, seq, row.audit_head or audit.GENESIS, now, actor,
                                                       fx.action, fx.changes, fx.reason)
    new_version = row.version + 1
    values = dict(fx.case, version=new_version, updated_at=now)
    if record is not None:
        values.update(audit_seq=seq, audit_head=record["hash"])
    res = _run(conn, _UPDATE_CASE, CASE, values, {"w_id": row.id, "w_version": row.version})
    if res.rowcount != 1:
        current = case_row(conn, row.id)
        raise VersionConflict(row.id, row.version, current.version if current else -1)
    if fx.client:  # a name or the phone set: the folded search keys too, in the same UPDATE (store/search_columns.py)
        _run(conn, _UPDATE_CLIENT, CLIENT, search_columns.with_keys(conn, row.client_id, case.client, fx.client),
             {"w_id": row.client_id})
    for effect in fx.inserts:
        if not isinstance(effect, Insert) or effect.row not in _INSERT_TABLES:
            raise UnknownEffect(effect)
        vals = _resolve(effect.values, refs) if _has_ref(effect.values) else effect.values
        res = _run(conn, _INSERTS[effect.row], _INSERT_TABLES[effect.row], dict(vals, case_id=row.id))
        if effect.ref:
            refs[effect.ref] = res.inserted_primary_key[0]
    for effect in fx.updates:
        if isinstance(effect, Update) and _has_ref(effect.values):
            effect = Update(effect.row, effect.key, _resolve(effect.values, refs))
        if isinstance(effect, Update) and effect.row is Row.CORRECTION:  # needs the client and the seq
            client_corrections.upsert(conn, row.client_id, row.id, seq, effect.key, effect.values)
        else:
            _apply_update(conn, row.id, effect)
    if _touches_documents(fx):  # the case's document counts, as the statistics read them (store/completeness.py)
        completeness.refresh(conn, [row.id])
    if record is None:
        record = audit.record_values(row.id, seq, row.audit_head or audit.GENESIS, now, actor, fx.action,
                                     _resolve(fx.changes, refs), fx.reason)
        driver_sql.execute(conn, _SET_AUDIT_TIP, {"audit_seq": seq, "audit_head": record["hash"], "w_id": row.id})
    _run(conn, _INSERT_AUDIT, audit.AUDIT, record)
    for note in fx.notifications:
        kind, extra = (note.kind, note.payload) if isinstance(note, Notify) else (note, {})
        # A payload's "to" is the address the change chose (a bilan sent to the address the client gave).
        _run(conn, _INSERT_NOTIFICATION, NOTIFICATION, dict(
            dedupe_key=f"case:{row.id}:{seq}:{kind}", kind=kind, channel=_CHANNEL.get(kind, "email"),
            case_id=row.id, recipient=extra.get("to") or (
                case.client.email if case.client and _CHANNEL.get(kind) == "email" else None),
            payload={**extra, "audit_seq": seq}, status="pending", created_at=now, next_attempt_at=now,
        ))
    log.info("case %s: %s by %s -> v%s", row.id, fx.action, actor.split(":")[0], new_version)
    return ChangeResult(row.id, fx.case.get("state", row.state), new_version, seq, fx.action, record["changes"])


def _touches_documents(fx: Effects) -> bool:
    """A requirement recorded, or a contract joining the case: its checklists changed."""
    return (any(isinstance(e, Update) and e.row is Row.REQUIREMENT for e in fx.updates)
            or any(isinstance(e, Insert) and e.row is Row.CASE_CONTRACT for e in fx.inserts))


def _apply_update(conn: Connection, case_id: int, effect: Update) -> None:
    if not isinstance(effect, Update):
        raise UnknownEffect(effect)
    if effect.row is Row.REQUIREMENT:
        _upsert_requirement(conn, effect.key, effect.values)
    elif effect.row is Row.ACTION:
        _run(conn, _UPDATE_ACTION, ACTION, effect.values, {"w_id": effect.key, "w_case_id": case_id})
    elif effect.row is Row.APPOINTMENT:
        _run(conn, _UPDATE_APPOINTMENT, APPOINTMENT, effect.values, {"w_id": effect.key, "w_case_id": case_id})
    elif effect.row is Row.TOPIC:
        _run(conn, _UPDATE_TOPIC, TOPIC, effect.values, {"w_id": effect.key, "w_case_id": case_id})
    elif effect.row is Row.LETTER:  # a postal letter posted (states/letters.py): its outbox row
        conn.execute(update(NOTIFICATION).where(NOTIFICATION.c.id == effect.key, NOTIFICATION.c.case_id == case_id,
                                                NOTIFICATION.c.kind == "client_letter").values(effect.values))
    elif effect.row is Row.AUDIT_REDACTION:
        redaction.blank_record(conn, case_id, effect.key, effect.values["redacted_at"])
    elif effect.row is Row.OUTCOME:
        _run(conn, _UPDATE_OUTCOME, OUTCOME, effect.values, {"w_id": effect.key, "w_case_id": case_id})
    elif effect.row is Row.DECISION:
        _run(conn, _UPDATE_DECISION, DECISION, effect.values, {"w_code": effect.key, "w_case_id": case_id})
    elif effect.row is Row.BILAN_RECORD:
        if not effect.values.keys() <= _BILAN_SENT:  # the frozen content is never updated
            raise UnknownEffect(effect)
        _run(conn, _UPDATE_BILAN_SENT, BILAN_RECORD, effect.values, {"w_seq": effect.key, "w_case_id": case_id})
    else:
        raise UnknownEffect(effect)


def _upsert_requirement(conn: Connection, key: tuple[str, str], vals: dict[str, Any]) -> None:
    contract_id, code = key
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(REQUIREMENT)
    stmt = ins.values(contract_id=contract_id, code=code, **vals).on_conflict_do_update(
        index_elements=[REQUIREMENT.c.contract_id, REQUIREMENT.c.code], set_=vals)
    conn.execute(stmt)


# ---------------------------------------------------------------- many changes in one batch
@dataclass(frozen=True)
class Change:
    """One change of a batch: `command` on case `case_id`, read at `expected_version`."""

    case_id: int
    expected_version: int
    command: Command


Outcome = ChangeResult | CaseNotFound | VersionConflict | DomainError


def execute_batch_in(conn: Connection, changes: list[Change], actor: str, now: datetime) -> list[Outcome]:
    """Many changes, each to a different case, in the caller's transaction: for each, what
    execute_in would return, or the error it would raise (nothing of that change is written).

    The same checks and rows as execute_in called once per change: each case is loaded, its
    version checked, `decide` run on its snapshot; each accepted change advances the case's
    version and audit chain by one record (record_values, from the case's tip) and writes the
    rows its effects name. What differs is the number of statements: the case rows with their
    clients and contract ids are read in one SELECT per 5,000 cases, and each kind of row is
    written by one executemany for the whole batch (the cohort's ~1,500 joins: ~8 statements
    each one by one, ~1.1 ms per join on SQLite; see docs/performance-cohort.md). A change whose
    effects reference rows inserted by the same change, update other rows, the client, or queue
    notifications is applied by `_apply`, as execute_in does.

    On PostgreSQL the case rows are read FOR UPDATE: a concurrent writer waits for this
    transaction, so the versions checked here are those the UPDATEs meet (on SQLite the
    transaction holds the file's write lock from BEGIN IMMEDIATE)."""
    ids = [c.case_id for c in changes]
    if len(set(ids)) != len(ids):
        raise ValueError("a batch changes each case at most once")
    if not changes:
        return []
    for_update = conn.dialect.name == "postgresql"
    rows = case_rows_with_client(conn, ids, for_update)
    contract_ids = contract_ids_of_cases(conn, ids) if any("contract_ids" in c.command.needs for c in changes) else {}
    outcomes: list[Outcome | None] = []
    batch = _Batch()
    for change in changes:
        found = rows.get(change.case_id)
        if found is None:
            outcomes.append(CaseNotFound(change.case_id))
            continue
        row, client = found
        if row.version != change.expected_version:
            outcomes.append(VersionConflict(change.case_id, change.expected_version, row.version))
            continue
        cmd = change.command
        needs = cmd.needs
        # The parts loaded for the whole batch above are not read again; any other goes through snapshot().
        case = snapshot(conn, row, needs - {"contract_ids"}, cmd.advisor_ids, client if "client" in needs else None)
        if "contract_ids" in needs:
            case = replace(case, contract_ids=contract_ids[row.id])
        try:
            fx = decide(case, cmd, now)
        except DomainError as refused:
            outcomes.append(refused)
            continue
        if _batchable(fx):
            outcomes.append(batch.add(row, fx, actor, now))
        else:
            outcomes.append(_apply(conn, row, case, fx, actor, now))
    batch.write(conn)
    return outcomes


def _batchable(fx: Effects) -> bool:
    """Effects that need nothing from the rows they insert and touch only the case's own rows."""
    return (not fx.updates and not fx.client and not fx.notifications and not _has_ref(fx.changes)
            and all(isinstance(e, Insert) and not e.ref and e.row in _INSERT_TABLES and not _has_ref(e.values)
                    for e in fx.inserts))


class _Batch:
    """The rows of the batched changes, written by one executemany per statement and key set."""

    def __init__(self) -> None:
        self.case_updates: dict[frozenset, list[dict]] = {}
        self.inserts: dict[tuple[Row, frozenset], list[dict]] = {}
        self.documents: list[int] = []
        self.records: list[dict] = []

    def add(self, row, fx: Effects, actor: str, now: datetime) -> ChangeResult:
        seq = row.audit_seq + 1
        record = audit.record_values(row.id, seq, row.audit_head or audit.GENESIS, now, actor, fx.action,
                                     fx.changes, fx.reason)
        values = dict(fx.case, version=row.version + 1, updated_at=now, audit_seq=seq, audit_head=record["hash"],
                      w_id=row.id, w_version=row.version)
        self.case_updates.setdefault(frozenset(values), []).append(values)
        for effect in fx.inserts:
            vals = dict(effect.values, case_id=row.id)
            self.inserts.setdefault((effect.row, frozenset(vals)), []).append(vals)
        if _touches_documents(fx):
            self.documents.append(row.id)
        self.records.append(record)
        log.info("case %s: %s by %s -> v%s", row.id, fx.action, actor.split(":")[0], row.version + 1)
        return ChangeResult(row.id, fx.case.get("state", row.state), row.version + 1, seq, fx.action,
                            record["changes"])

    def write(self, conn: Connection) -> None:
        """In execute_in's order: the case rows, the inserted rows, the document counts, the audit records."""
        for group in self.case_updates.values():
            _check_columns(_UPDATE_CASE, CASE, group[0].keys() - {"w_id", "w_version"})
            res = conn.execute(_UPDATE_CASE, group)
            if conn.dialect.supports_sane_multi_rowcount and res.rowcount != len(group):
                # Cannot happen while the rows are locked (see execute_batch_in); if it does, the
                # caller's transaction must not commit a batch written in part.
                first = group[0]
                raise VersionConflict(first["w_id"], first["w_version"], -1)
        for (kind, _), group in self.inserts.items():
            _check_columns(_INSERTS[kind], _INSERT_TABLES[kind], group[0].keys())
            conn.execute(_INSERTS[kind], group)
        if self.documents:
            completeness.refresh(conn, self.documents)
        if self.records:
            conn.execute(_INSERT_AUDIT, self.records)


def _check_columns(stmt, table, keys) -> None:
    if not keys <= _COLUMNS[table]:
        stmt.values(dict.fromkeys(keys))  # raises "Unconsumed column names", as _run does
