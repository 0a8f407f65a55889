"""Engine and migrations. SQLite (WAL) is the embedded default; PostgreSQL via M3_DATABASE_URL."""
from __future__ import annotations

import sqlite3
import threading
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

_MIGRATIONS = Path(__file__).parent / "migrations"


_BUSY_TIMEOUT_S = 30  # the default of M3_SQLITE_BUSY_TIMEOUT_S


def busy_timeout_s() -> float:
    """How long a SQLite transaction waits for the file's write lock (M3_SQLITE_BUSY_TIMEOUT_S):
    bounded, so a request behind another process's long transaction fails (the API answers 503
    with Retry-After, store/unreachable.py) instead of hanging."""
    try:
        from config import get_settings

        return float(get_settings().sqlite_busy_timeout_s)
    except Exception:  # noqa: BLE001 - an unreadable setting must not stop the engine: the default
        return float(_BUSY_TIMEOUT_S)
PG_RECYCLE_S = 1800  # seconds a PostgreSQL connection is reused before being replaced
# A failed statement's error (its str, its repr, any traceback or log of it) never shows the
# values bound to it: they are clients' personal data (issue 9, hole 2: one failed import batch
# printed 5,000 clients' names, emails and phones).
HIDE_PARAMETERS = True
_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()
_owner: dict[int, int] = {}  # id(lock) -> the thread holding it


def _writer_lock(path: str) -> threading.Lock:
    with _writer_locks_guard:
        return _writer_locks.setdefault(str(Path(path).resolve()), threading.Lock())


class _QueuedWriter(sqlite3.Connection):
    """A SQLite connection whose transactions queue on a lock shared by this process's
    connections to the same file.

    Why: SQLite has one writer. A BEGIN IMMEDIATE that finds the file locked goes to SQLite's
    busy handler, which polls by sleeping 1, 2, 5 ... up to 100 ms between tries; with 30
    threads of one server waiting, a waiter can sleep through many commits and lose every race
    (the API benchmark's p99 was ~1 s at p50 ~120 ms). Waiting on a lock instead wakes the next
    thread as soon as the previous transaction ends. It only orders this process's threads:
    SQLite's own lock (and busy_timeout, for other processes) still guarantees correctness.
    """

    _m3_lock: threading.Lock | None = None
    _m3_held = False
    _m3_timeout: float = _BUSY_TIMEOUT_S

    def begin_immediate(self) -> None:
        lock = self._m3_lock
        if lock is not None and not self._m3_held and _owner.get(id(lock)) != threading.get_ident():
            # A thread opening a second transaction while it holds one would wait on itself:
            # it skips the queue and meets SQLite's busy handler, as without the lock.
            if lock.acquire(timeout=self._m3_timeout):
                self._m3_held = True
                _owner[id(lock)] = threading.get_ident()
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._m3_release()
            raise

    def _m3_release(self) -> None:
        if self._m3_held:
            self._m3_held = False
            _owner.pop(id(self._m3_lock), None)
            self._m3_lock.release()

    # Released after the COMMIT/ROLLBACK itself (SQLAlchemy's commit/rollback events fire
    # before it), and on close, so a connection dropped mid-transaction frees the queue.
    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._m3_release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._m3_release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._m3_release()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # One queue per database file; an in-memory database is private to its connection.
        path = url.removeprefix("sqlite:///").partition("?")[0]
        file_db = url.startswith("sqlite:///") and path and path != ":memory:" and "mode=memory" not in url
        timeout = busy_timeout_s()
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": timeout,
                                                  "factory": _QueuedWriter},
                               hide_parameters=HIDE_PARAMETERS)
        lock = _writer_lock(path) if file_db else None

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            # Let SQLAlchemy, not pysqlite, open transactions; BEGIN IMMEDIATE takes the write
            # lock up front so two writers queue instead of failing half-way with SQLITE_BUSY.
            dbapi_conn.isolation_level = None
            dbapi_conn._m3_lock = lock
            dbapi_conn._m3_timeout = timeout
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001
            # Straight on the driver's connection: exec_driver_sql would build an execution
            # context and a result for a statement that returns nothing, on every transaction.
            conn.connection.driver_connection.begin_immediate()

        return engine
    # No pool_pre_ping: it costs a round trip (and ~0.1 ms of this process's CPU) on every
    # checkout, i.e. on every request. Instead: connections are replaced after PG_RECYCLE_S (an
    # idle timeout on the way to the server never meets a pooled connection), and a connection
    # found dead (server restarted) fails its statement with a DBAPIError whose
    # `connection_invalidated` is true; SQLAlchemy then discards it and every connection pooled
    # before it, so the next checkouts reconnect. That one failure is retryable: api.access.change
    # retries a write once when it came before COMMIT, and the API answers 503 + Retry-After
    # otherwise (api/errors.py). A long-lived caller outside the API (a flow, the CLI) sees that
    # one error itself where the ping used to hide it.
    # jit=off: PostgreSQL compiles a query whose estimated cost passes jit_above_cost; the
    # statistics' GROUP BY over an agency's 50,000 cases passes it and spent 45-60 ms compiling
    # (EXPLAIN ANALYZE's "JIT: Timing") for a query that then runs in about as long: no query
    # here is the long analytical kind JIT pays for (docs/performance-pages.md).
    connect_args = {"options": "-c jit=off"} if url.startswith("postgresql") else {}
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=False, pool_recycle=PG_RECYCLE_S,
                         hide_parameters=HIDE_PARAMETERS, connect_args=connect_args)


def one_statement_reads(engine: Engine) -> Engine:
    """The same engine (and pool) for reads of a single statement: in autocommit on PostgreSQL.

    Why: psycopg opens a transaction before the first statement and SQLAlchemy rolls it back when
    the connection is returned, so one SELECT costs three round trips (BEGIN, SELECT, ROLLBACK); in
    autocommit it is one, and a single statement sees one snapshot either way. The API reads the
    token's user this way on every request (api/auth.current; docs/performance-cli-http.md). SQLite
    keeps its engine: its transactions are opened by the `begin` listener above, and switching
    pysqlite's isolation level back and forth would undo the connect listener's setting."""
    if engine.dialect.name != "postgresql":
        return engine
    reader = getattr(engine, "_m3_one_statement", None)
    if reader is None:
        reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        engine._m3_one_statement = reader  # type: ignore[attr-defined]
    return reader


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest migration's id, read from the file names (our revisions are their 4-digit prefix):
    checking that a database is up to date must not import alembic (~0.3 s of every command)."""
    return max(p.name[:4] for p in (_MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except Exception:  # noqa: BLE001 - no table yet (a new database), or no database: migrate
        return None


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; a no-op without alembic when up to date)."""
    if _current_revision(engine) == head_revision():
        return
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(migrate: bool = True) -> Engine:
    """The engine of the configured database, migrated to the newest schema on first use."""
    from config import get_settings

    url = get_settings().resolved_database_url
    engine = engine_for(url)
    if migrate and not getattr(engine, "_m3_migrated", False):
        upgrade(engine)
        from store.bulk_indexes import ensure_indexes

        ensure_indexes(engine)  # an import killed midway may have left its indexes aside
        engine._m3_migrated = True  # type: ignore[attr-defined]
    return engine
