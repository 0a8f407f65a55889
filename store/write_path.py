"""The one write path. Every change to a case, from the API, the pages or a flow, comes here.

In one transaction: load the case, check the expected version, let the domain decide (guards,
calling rules), apply the effects, append the audit record, enqueue the notifications, commit.
Optimistic locking: the UPDATE of the case row is conditional on the version the caller read,
so of two writers holding the same version exactly one wins; the other gets VersionConflict
and nothing it did is kept. Nothing else in the code base writes a case.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from states.commands import Command
from states.decide import decide
from states.effects import Effects, Insert, Row, Update
from store import audit, redaction
from store.errors import CaseNotFound, UnknownEffect, VersionConflict
from store.snapshot import (
    ACTION, ATTEMPT, CASE, CLIENT, INVENTORY, OUTCOME, REQUIREMENT, case_row, case_row_with_client, snapshot,
)
from store.tables import Notification

log = logging.getLogger("m3.write_path")  # ids only: no personal data in logs

NOTIFICATION = Notification.__table__
# Each kind of row the domain may add, and its table. A Row missing here fails loudly (UnknownEffect).
_INSERT_TABLES = {Row.ATTEMPT: ATTEMPT, Row.INVENTORY: INVENTORY, Row.OUTCOME: OUTCOME, Row.ACTION: ACTION}
_CHANNEL = {"client_email": "email", "client_letter": "letter"}

# Statements built once. The SET clause comes from the keys of the parameters passed at execute
# time, and SQLAlchemy caches the compiled form per set of keys: a change pays neither the
# construction of a statement nor its compilation (bench/bench_write_path.py: most of the cost
# of a change was there). The WHERE parameters are prefixed `w_` so they never clash with a
# column being set.
_UPDATE_CASE = update(CASE).where(CASE.c.id == bindparam("w_id"), CASE.c.version == bindparam("w_version"))
_UPDATE_CLIENT = update(CLIENT).where(CLIENT.c.id == bindparam("w_id"))
_UPDATE_ACTION = update(ACTION).where(ACTION.c.id == bindparam("w_id"), ACTION.c.case_id == bindparam("w_case_id"))
_INSERTS = {name: insert(table) for name, table in _INSERT_TABLES.items()}
_INSERT_AUDIT = insert(audit.AUDIT)
_INSERT_NOTIFICATION = insert(NOTIFICATION)
_COLUMNS = {t: frozenset(t.c.keys()) for t in (CASE, CLIENT, ACTION, NOTIFICATION, audit.AUDIT,
                                               *_INSERT_TABLES.values())}


def _run(conn: Connection, stmt, table, params: dict[str, Any], where: dict[str, Any] | None = None) -> Any:
    """Execute a prebuilt statement; keys that are not columns fail as `.values()` would."""
    if not params.keys() <= _COLUMNS[table]:
        stmt = stmt.values(params)  # raises "Unconsumed column names", as before
        params = {}
    return conn.execute(stmt, {**params, **where} if where else params)


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


def _apply(conn: Connection, row, case, fx: Effects, actor: str, now: datetime) -> ChangeResult:
    seq = row.audit_seq + 1
    record = audit.record_values(row.id, seq, row.audit_head or audit.GENESIS, now, actor, fx.action,
                                 fx.changes, fx.reason)
    new_version = row.version + 1
    values = dict(fx.case, version=new_version, audit_seq=seq, audit_head=record["hash"], updated_at=now)
    res = _run(conn, _UPDATE_CASE, CASE, values, {"w_id": row.id, "w_version": row.version})
    if res.rowcount != 1:
        current = case_row(conn, row.id)
        raise VersionConflict(row.id, row.version, current.version if current else -1)
    if fx.client:
        _run(conn, _UPDATE_CLIENT, CLIENT, fx.client, {"w_id": row.client_id})
    for effect in fx.inserts:
        if not isinstance(effect, Insert) or effect.row not in _INSERT_TABLES:
            raise UnknownEffect(effect)
        _run(conn, _INSERTS[effect.row], _INSERT_TABLES[effect.row], dict(effect.values, case_id=row.id))
    for effect in fx.updates:
        _apply_update(conn, row.id, effect)
    _run(conn, _INSERT_AUDIT, audit.AUDIT, record)
    for kind in fx.notifications:
        _run(conn, _INSERT_NOTIFICATION, NOTIFICATION, dict(
            dedupe_key=f"case:{row.id}:{seq}:{kind}", kind=kind, channel=_CHANNEL.get(kind, "email"),
            case_id=row.id, recipient=case.client.email if case.client and _CHANNEL.get(kind) == "email" else None,
            payload={"audit_seq": seq}, status="pending", created_at=now, next_attempt_at=now,
        ))
    log.info("case %s: %s by %s -> v%s", row.id, fx.action, actor.split(":")[0], new_version)
    return ChangeResult(row.id, fx.case.get("state", row.state), new_version, seq, fx.action, record["changes"])


def _apply_update(conn: Connection, case_id: int, effect: Update) -> None:
    if not isinstance(effect, Update):
        raise UnknownEffect(effect)
    if effect.row is Row.REQUIREMENT:
        _upsert_requirement(conn, effect.key, effect.values)
    elif effect.row is Row.ACTION:
        _run(conn, _UPDATE_ACTION, ACTION, effect.values, {"w_id": effect.key, "w_case_id": case_id})
    elif effect.row is Row.AUDIT_REDACTION:
        redaction.blank_record(conn, case_id, effect.key, effect.values["redacted_at"])
    else:
        raise UnknownEffect(effect)


def _upsert_requirement(conn: Connection, key: tuple[str, str], vals: dict[str, Any]) -> None:
    contract_id, code = key
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(REQUIREMENT)
    stmt = ins.values(contract_id=contract_id, code=code, **vals).on_conflict_do_update(
        index_elements=[REQUIREMENT.c.contract_id, REQUIREMENT.c.code], set_=vals)
    conn.execute(stmt)
