"""Opening cases: the one way a case comes to exist, for the cohort (in bulk) and the tests alike.

`open_cases` writes each case row, its contract links and its first audit record ("ouverture"),
so its trail starts at creation. The rows are built by `opening_rows`, from `opening_changes`
and `store.audit.record_values` (the hash chain's only record builder): there is no second,
hand-written form of an opening record. The three INSERTs are executemany calls on the driver
(on PostgreSQL, one COPY per table), whatever the number of cases, so a
cohort of 25,000 cases and a test's single case take the same path. The document counts are
computed before and written with the case row.

Frozen at opening, never recomputed: the distinct families of the client's active contracts
(`families_before`, the multi-equipment rate's "before") and the priority's parts.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, func, select, text

from states.calendar import PARIS
from store import audit, completeness
from store.snapshot import CASE, CASE_CONTRACT, CONTRACT

OPENING = "ouverture"
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


@dataclass(frozen=True)
class NewCase:
    client_id: str
    agency_id: str
    contract_ids: Sequence[str]
    cohort_month: str
    due_date: date
    window_start: date
    window_end: date
    assigned_advisor_id: int | None
    priority: int = 0
    late: bool = False
    families_before: int | None = None  # None: counted by open_cases from the client's contracts
    priority_parts: dict[str, int] | None = None  # {"family": n, "kind": n, "premium": n}


def opening_changes(c: NewCase) -> dict[str, list[Any]]:
    """What the opening audit record says: every field the case starts with, as [None, value]."""
    return {"state": [None, "a_contacter"], "contracts": [None, list(c.contract_ids)],
            "cohort_month": [None, c.cohort_month], "due_date": [None, c.due_date.isoformat()],
            "assigned_advisor_id": [None, c.assigned_advisor_id], "priority": [None, c.priority],
            "priority_parts": [None, dict(c.priority_parts) if c.priority_parts is not None else None],
            "families_before": [None, c.families_before], "late": [None, c.late]}


CASE_COLUMNS = ("id", "client_id", "agency_id", "cohort_month", "due_date", "window_start", "window_end", "state",
                "assigned_advisor_id", "priority", "priority_parts", "families_before", "escalation_step", "late",
                "assignment_confirmed", "nothing_elsewhere", "created_at", "updated_at", "version", "audit_seq",
                "audit_head")
AUDIT_COLUMNS = ("case_id", "seq", "at", "actor", "action", "changes", "reason", "prev_hash", "hash")


def opening_rows(case_id: int, c: NewCase, actor: str, now: datetime) -> tuple[tuple, list[tuple], tuple]:
    """(case row, contract links, audit record) of a new case, as tuples in CASE_COLUMNS /
    (case_id, contract_id) / AUDIT_COLUMNS order."""
    # fresh: opening_changes builds a new dict of plain JSON values for this record (see record_values).
    rec = audit.record_values(case_id, 1, audit.GENESIS, now, actor, OPENING, opening_changes(c), None, fresh=True)
    at = rec["at"]  # UTC, as hashed
    case = (case_id, c.client_id, c.agency_id, c.cohort_month, c.due_date, c.window_start, c.window_end,
            "a_contacter", c.assigned_advisor_id, c.priority, c.priority_parts, c.families_before, 0, c.late,
            False, False, at, at, 1, 1, rec["hash"])
    links = [(case_id, k) for k in c.contract_ids]
    record = tuple(rec[col] for col in AUDIT_COLUMNS)
    return case, links, record


def families_held_column(client_id, on: date):
    """The same count as a correlated scalar subquery on `client_id` (a column of an outer
    SELECT): the cohort adds it to its selection, where it costs almost nothing."""
    k = CONTRACT.alias("held")
    return (select(func.count(k.c.family.distinct()))
            .where(k.c.client_id == client_id, k.c.status == "active", k.c.effective_date <= on)
            .scalar_subquery())


def families_held(conn: Connection, client_ids: Iterable[str], on: date) -> dict[str, int]:
    """client id -> distinct families of their active contracts in effect on `on` (index lookups
    by client, a few thousand ids per statement)."""
    ids = list(client_ids)
    out: dict[str, int] = {}
    for start in range(0, len(ids), CHUNK):
        out.update(conn.execute(_FAMILIES_HELD, {"ids": ids[start:start + CHUNK], "on": on}).all())
    return out


CHUNK = 5000  # ids per IN list: well under SQLite's 32,766 variables
_FAMILIES_HELD = (select(CONTRACT.c.client_id, func.count(CONTRACT.c.family.distinct()))
                  .where(CONTRACT.c.client_id.in_(bindparam("ids", expanding=True)), CONTRACT.c.status == "active",
                         CONTRACT.c.effective_date <= bindparam("on"))
                  .group_by(CONTRACT.c.client_id))


def allocate_ids(conn: Connection, n: int) -> list[int]:
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.execute(text(
            "SELECT nextval(pg_get_serial_sequence('followup_case', 'id')) FROM generate_series(1, :n)"),
            {"n": n}).scalars())
    # SQLite: every transaction begins IMMEDIATE (store.db), so nobody else can take these ids meanwhile.
    top = conn.execute(select(func.coalesce(func.max(CASE.c.id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + n))


def open_cases(conn: Connection, cases: Iterable[NewCase], actor: str, now: datetime) -> list[int]:
    """Open the cases (rows, contract links, opening audit records) in the caller's transaction;
    return their ids, in order. A contract already in a case fails the whole call (unique
    `case_contract.contract_id`): a contract is followed up once."""
    cases = list(cases)
    if not cases:
        return []
    now = now.astimezone(timezone.utc)
    missing = sorted({c.client_id for c in cases if c.families_before is None})
    if missing:
        held = families_held(conn, missing, now.astimezone(PARIS).date())
        cases = [c if c.families_before is not None else _with_families(c, held.get(c.client_id, 0)) for c in cases]
    ids = allocate_ids(conn, len(cases))
    # Its checklists counted, for the statistics (store/completeness.py), written with the row.
    documents = completeness.counts_of_new(conn, [(c.client_id, c.contract_ids) for c in cases])
    rows, links, records = [], [], []
    for case_id, c, counts in zip(ids, cases, documents):
        row, case_links, record = opening_rows(case_id, c, actor, now)
        rows.append(row + counts)
        links.extend(case_links)
        records.append(record)
    _insert_cases(conn, rows)
    _insert_links(conn, links)
    _insert_audit(conn, records)
    return ids


def _with_families(c: NewCase, n: int) -> NewCase:
    return replace(c, families_before=n)


def _insert_cases(conn: Connection, rows: list[tuple]) -> None:
    bulk_insert(conn, CASE, CASE_COLUMNS + completeness.COLUMNS, rows)


def _insert_links(conn: Connection, links: list[tuple]) -> None:
    bulk_insert(conn, CASE_CONTRACT, ("case_id", "contract_id"), links)


def _insert_audit(conn: Connection, records: list[tuple]) -> None:
    bulk_insert(conn, audit.AUDIT, AUDIT_COLUMNS, records)


def bulk_insert(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """executemany on the driver (COPY on PostgreSQL): SQLAlchemy's per-row statement compilation
    and type processing cost more than the INSERT itself here. Values go through each column's bind processor (dates,
    times and JSON as the dialect stores them); scalar ones are memoised, since a cohort has few
    distinct dates."""
    if not rows:
        return
    dialect = conn.dialect
    procs = [(i, _JSON.encode if isinstance(table.c[col].type, JSON) else table.c[col].type._cached_bind_processor(
        dialect), isinstance(table.c[col].type, JSON)) for i, col in enumerate(columns)]
    procs = [(i, p, is_json) for i, p, is_json in procs if p is not None]
    if procs:
        cols = list(zip(*rows))
        for i, p, is_json in procs:
            if is_json:  # compact JSON text, which both drivers pass to a JSON column; None is SQL NULL
                cols[i] = [None if v is None else p(v) for v in cols[i]]
            else:
                cache: dict[Any, Any] = {}
                cols[i] = [cache[v] if v in cache else cache.setdefault(v, p(v)) for v in cols[i]]
        rows = list(zip(*cols))
    if dialect.name == "postgresql":
        _copy_rows(conn, table, columns, rows)
        return
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f'INSERT INTO {table.name} ({", ".join(columns)}) VALUES ({", ".join([mark] * len(columns))})'
    conn.exec_driver_sql(sql, rows)


def _copy_rows(conn: Connection, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """PostgreSQL: COPY … FROM STDIN on the driver's cursor, in the caller's transaction.

    Why (profiles in docs/performance-cohort.md): with psycopg's executemany the server executed
    one INSERT per row, and the cohort's 25,000 cases, 26,700 links and 25,000 audit records took
    5.6 s of its 19 s; COPY streams them, formatted by psycopg's C code (client plus server CPU
    of the whole cohort: 8.5 s with one INSERT … SELECT FROM unnest per table, whose array
    literals psycopg builds in Python, 9.2 s with json_to_recordset, 7.0 s with COPY). A
    constraint still fails the whole COPY, as it failed the executemany.

    COPY does not go through SQLAlchemy's execution, so its statement event is sent here: what
    counts or crashes the statements of a run (tests/integration/test_cohort__crash_rerun.py)
    still sees this one."""
    names = ", ".join(conn.dialect.identifier_preparer.quote(col) for col in columns)
    sql = f"COPY {table.name} ({names}) FROM STDIN"
    with conn.connection.driver_connection.cursor() as cursor:
        if conn._has_events or conn.engine._has_events:
            conn.dispatch.before_cursor_execute(conn, cursor, sql, rows, None, True)
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
