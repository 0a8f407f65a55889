"""The write path's hot statements run on the driver's cursor, with SQLAlchemy's own compiled SQL.

Why: SQLAlchemy Core spends ~25-35 µs per statement on SQLite even when the statement is prebuilt
and its compiled form cached (an execution context, a result object, event dispatch), against
~5-10 µs for the same SQL on the sqlite3 cursor; a change runs 4-6 statements. The upsert of a
client correction was worse: dialect `insert()` constructs have no cache key in SQLAlchemy 2.0,
so it was compiled again on every correction. Running them here took the benchmark's change
from 1.97 ms to 0.45 ms in one run (20x the raw sqlite3 minimum instead of ~40-90x on a loaded
machine; docs/performance-write-path.md).

What is still SQLAlchemy's, so the rows written are the same:
- the SQL: each Core statement is compiled once per dialect and set of parameter names, by
  the connection's dialect, exactly as `Connection.execute` would compile it;
- the values: the compiled statement's bind processors (UTC datetimes, JSON, booleans) and the
  columns' scalar defaults, and for reads the column types' result processors;
- the transaction: the statements run on the DBAPI connection the `Connection` already holds,
  inside the transaction it began (one transaction, same locks, same COMMIT);
- the errors: a driver error goes through `Connection._handle_dbapi_exception`, so callers see
  the same `sqlalchemy.exc` classes (IntegrityError, OperationalError ...) and a dead
  PostgreSQL connection is invalidated as before (api/access.py retries on that).

Falls back to `conn.execute` (the same statement, the same parameters) when it cannot keep
those promises: no transaction begun yet (conn.execute would autobegin it), statement event
listeners registered (tests that count or intercept statements must see them all), a
statement this module does not handle (expanding IN, non-scalar defaults), or `ENABLED` off.

It leans on SQLAlchemy internals (`Connection._handle_dbapi_exception`, the compiled statement's
`_bind_processors` and `_result_columns`, `TypeEngine._cached_result_processor`), stable in the
pinned 2.0.58: after an upgrade, tests/integration/test_write_path__driver_sql_same_rows.py
says whether the rows are still the same.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import Connection

ENABLED = True  # False: every statement through conn.execute (tests compare the two paths' rows)

# Statement events whose listeners must see each statement: with any, the SQLAlchemy path runs.
_EVENTS = ("before_execute", "after_execute", "before_cursor_execute", "after_cursor_execute")


class _Unsupported(Exception):
    pass


class _Compiled:
    """One statement compiled for one dialect and one set of parameter names."""

    __slots__ = ("sql", "positional", "names", "procs", "defaults", "returning", "pk_keys", "autoinc_key",
                 "result_keys", "result_types", "processors", "row_type")

    def __init__(self, stmt, dialect, keys: list[str]) -> None:
        c = stmt.compile(dialect=dialect, column_keys=keys)
        if c.literal_execute_params or c.post_compile_params:
            raise _Unsupported("expanding or literal-execute parameters")
        prefetch = [*c.insert_prefetch, *c.update_prefetch]
        if any(col.default is None or not col.default.is_scalar for col in prefetch):
            raise _Unsupported("a default computed at execution time")
        self.sql = c.string
        self.positional = c.positional
        processors = c._bind_processors
        self.names = tuple(c.positiontup if c.positional else c.bind_names.values())
        self.procs = tuple((i, processors[n]) for i, n in enumerate(self.names) if processors.get(n) is not None)
        # Values the caller may leave out: the columns' scalar defaults, and the values bound
        # with the statement itself (a literal in its WHERE).
        self.defaults = {name: b.value for b, name in c.bind_names.items() if not b.required and b.callable is None}
        self.defaults.update((col.key, col.default.arg) for col in prefetch)
        self.returning = bool(c.effective_returning)
        # An INSERT's primary key as CursorResult.inserted_primary_key gives it: RETURNING where
        # the dialect uses it (PostgreSQL), else the parameters and the autoincrement's lastrowid.
        table = stmt.table if c.isinsert else None
        self.pk_keys = tuple(col.key for col in table.primary_key) if table is not None else None
        autoinc = table._autoincrement_column if table is not None else None
        self.autoinc_key = autoinc.key if autoinc is not None else None
        self.result_keys = tuple(rc[0] for rc in c._result_columns)
        self.result_types = tuple(rc[3] for rc in c._result_columns)
        self.processors = None  # for reads: from the first cursor's description (the driver's type codes)
        self.row_type = _row_type(self.result_keys) if self.result_keys and not self.returning else None

    def args(self, params: dict[str, Any]):
        """The driver's parameters, as the execution context would build them."""
        if self.defaults:
            params = {**self.defaults, **params}
        values = [params[n] for n in self.names]
        for i, proc in self.procs:
            values[i] = proc(values[i])
        return tuple(values) if self.positional else dict(zip(self.names, values))


def _row_type(keys: tuple[str, ...]):
    """A row read by attribute, index or slice like SQLAlchemy's Row, and by `_mapping`."""
    base = namedtuple("DriverRow", keys)
    return type("DriverRow", (base,), {"__slots__": (), "_mapping": property(lambda self: self._asdict())})


class Result:
    """What the write path reads of a CursorResult: rowcount, inserted_primary_key."""

    __slots__ = ("rowcount", "inserted_primary_key")

    def __init__(self, rowcount: int, inserted_primary_key: tuple | None) -> None:
        self.rowcount, self.inserted_primary_key = rowcount, inserted_primary_key


_cache: dict[tuple, _Compiled | None] = {}


def _usable(conn: Connection) -> bool:
    """Whether this transaction's statements may bypass conn.execute. Decided once per
    transaction: looking the listeners up costs ~1.5 µs each, about what running a statement
    on the cursor costs."""
    tx = conn.get_transaction()
    seen = conn.__dict__.get("_m3_driver_sql")
    if seen is not None and seen[0] is tx:
        return seen[1]
    if tx is None:  # conn.execute will begin one (autobegin): let it
        return False
    dispatch = conn.dispatch
    ok = ENABLED and not any(getattr(dispatch, e) for e in _EVENTS)
    conn.__dict__["_m3_driver_sql"] = (tx, ok)
    return ok


def _compiled(conn: Connection, stmt, params: dict[str, Any]) -> _Compiled | None:
    """The cached compiled form, or None when this statement must go through conn.execute."""
    if not _usable(conn):
        return None
    # Statements hash by identity: the write path's are module constants, built once.
    key = (stmt, conn.dialect, tuple(params))
    try:
        return _cache[key]
    except KeyError:
        pass
    try:
        compiled = _Compiled(stmt, conn.dialect, sorted(params))  # sorted: as Connection.execute does
    except _Unsupported:
        compiled = None
    if len(_cache) > 1000:  # bounded all the same (a few dozen in practice)
        _cache.clear()
    _cache[key] = compiled
    return compiled


def _run(conn: Connection, compiled: _Compiled, params: dict[str, Any]):
    """A cursor that executed the statement (the caller closes it)."""
    args = None
    cursor = None
    try:
        args = compiled.args(params)
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(compiled.sql, args)
        return cursor
    except BaseException as e:  # wrapped exactly as Connection.execute wraps it
        if cursor is not None:
            cursor.close()
        conn._handle_dbapi_exception(e, compiled.sql, args, cursor, None)


def execute(conn: Connection, stmt, params: dict[str, Any]):
    """An INSERT or UPDATE: a Result (rowcount, inserted_primary_key), or conn.execute's."""
    compiled = _compiled(conn, stmt, params)
    if compiled is None:
        return conn.execute(stmt, params)
    cursor = _run(conn, compiled, params)
    try:
        if compiled.returning:
            pk = tuple(cursor.fetchone())
        elif compiled.pk_keys is not None:
            pk = tuple(cursor.lastrowid if k == compiled.autoinc_key and params.get(k) is None else params.get(k)
                       for k in compiled.pk_keys)
        else:
            pk = None
        return Result(cursor.rowcount, pk)
    except BaseException as e:
        conn._handle_dbapi_exception(e, compiled.sql, params, cursor, None)
    finally:
        cursor.close()


def first(conn: Connection, stmt, params: dict[str, Any]):
    """The first row of a SELECT (attributes, index, slice, `_mapping`) or None."""
    compiled = _compiled(conn, stmt, params)
    if compiled is None:
        return conn.execute(stmt, params).first()
    rows = _read(conn, compiled, params, one=True)
    return rows[0] if rows else None


def rows(conn: Connection, stmt, params: dict[str, Any]) -> list:
    """Every row of a SELECT, as `first` gives one."""
    compiled = _compiled(conn, stmt, params)
    if compiled is None:
        return conn.execute(stmt, params).all()
    return _read(conn, compiled, params, one=False)


def _read(conn: Connection, compiled: _Compiled, params: dict[str, Any], one: bool) -> list:
    cursor = _run(conn, compiled, params)
    try:
        raw = [r for r in (cursor.fetchone(),) if r is not None] if one else cursor.fetchall()
        if not raw:
            return []
        procs = compiled.processors
        if procs is None:  # the driver's type codes, as CursorResult reads them
            procs = compiled.processors = tuple(
                t._cached_result_processor(conn.dialect, d[1]) for t, d in zip(compiled.result_types,
                                                                              cursor.description))
        make = compiled.row_type._make
        if not any(procs):
            return [make(r) for r in raw]
        return [make([p(v) if p is not None else v for p, v in zip(procs, r)]) for r in raw]
    except BaseException as e:
        conn._handle_dbapi_exception(e, compiled.sql, params, cursor, None)
    finally:
        cursor.close()
