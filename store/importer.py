"""`import_file`: the CRM contract export → client and contract tables, streamed in batches.

Why batches with a hash: the export is re-sent whole every time, so most rows are unchanged.
Each batch (5,000 rows) reads the stored `source_hash` of its clients and contracts in two
indexed queries, then writes only the rows that are new or whose CRM values changed, with one
multi-row upsert per table (`INSERT ... ON CONFLICT (id) DO UPDATE`, SQLite and PostgreSQL).
Re-importing the same file therefore writes nothing. Each batch is its own transaction, so a
crash part-way leaves whole batches, and re-running the import completes the rest.

Two processes on a large file: a forked worker reads, validates, normalises and hashes rows
(store.import_prepare, run by store.import_worker) while this process classifies them against
the stored hashes, resolves advisors and writes, so parsing overlaps SQLite. Everything that
depends on order or on the database stays here, in file order: batches, counts, rejections
and line numbers are those of a single-process run. Small files are parsed in-process.
Tried and dropped before that: a writer *thread* (the GIL convoy gave no gain).

Counting is sequential within the file: a row is *imported* when its contract is new, *updated*
when its contract or its client's values differ from what was stored before it (in the database
or earlier in the file), *unchanged* otherwise. Later rows win (a client's kind, say).
"""
from __future__ import annotations

import marshal
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.exc import DataError, DBAPIError

from store.advisor_directory import AdvisorDirectory, name_key
from store.csv_source import COLUMNS, CsvSource, kept
from store.bulk_upsert import StoredHashes, Upsert
from store.import_corrections import CaseMove, Conflict, Reconciler
from store.import_gc import fewer_collections
from store.import_prepare import Batch, prepared_batches
from store.import_rows import CLIENT_TEXT, LIMITS
from store import bulk_indexes
from store import completeness, search_columns
from store.import_worker import in_worker
from store.tables import Agency, Client, Contract
from store.unreachable import is_unreachable

BATCH_ROWS = 5_000
KEEP_REJECTIONS = 1_000  # in the summary; the rest are counted and go to on_reject only


class ImportInterrupted(RuntimeError):
    """The database stopped the import (not a row: a refused row is rejected alone). The batches
    written before stay; running the import again completes the rest. Its message names the
    error's kind, SQLSTATE, table, column and constraint, never the driver's message or detail,
    which may quote the row (PostgreSQL's "Failing row contains (...)")."""


# What a database says of a value it cannot store (PostgreSQL: NUL, too long, out of range...;
# either driver: a string it cannot encode). Anything else (unreachable, a bug) stops the import.
UNSTORABLE = (DataError, UnicodeError)


def unstorable_reason(exc: BaseException) -> str:
    """The rejection reason of a row the database refused: the kind of refusal, no value."""
    if isinstance(exc, UnicodeError):
        return "caractère invalide (substitut UTF-16 isolé) : valeur impossible à enregistrer"
    orig = getattr(exc, "orig", None)
    what = {"22001": "une valeur dépasse la longueur de sa colonne", "22003": "un nombre dépasse sa colonne",
            "22021": "caractère refusé par la base"}.get(getattr(orig, "sqlstate", None) or "")
    if what is None and "NUL" in str(orig):  # psycopg refuses NUL before sending it
        what = "caractère NUL (octet 0x00)"
    return f"valeur impossible à enregistrer : {what or 'refusée par la base'} ({type(orig or exc).__name__})"


def db_error_text(exc: DBAPIError) -> str:
    """A database error without the row: kind, SQLSTATE, and the table, column and constraint."""
    orig = exc.orig
    parts = [type(orig).__name__]
    if getattr(orig, "sqlstate", None):
        parts.append(f"SQLSTATE {orig.sqlstate}")
    diag = getattr(orig, "diag", None)
    for label, attr in (("table", "table_name"), ("colonne", "column_name"), ("contrainte", "constraint_name")):
        value = getattr(diag, attr, None) if diag is not None else None
        if value:
            parts.append(f"{label} {value}")
    if isinstance(orig, sqlite3.Error):  # SQLite's messages name columns and constraints, not values
        parts.append(str(orig))
    return ", ".join(parts)


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str
    reason: str
    # What the file held (the row's fields as read, each cut to csv_source.KEEP_CHARS), for the
    # rejects file only: never in a repr, a log or a message (issue 9, hole 2).
    content: tuple[str, ...] = field(default=(), repr=False, compare=False)


@dataclass
class ImportSummary:
    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    clients_created: int = 0
    clients_updated: int = 0
    rejections: list[Rejection] = field(default_factory=list)  # the first KEEP_REJECTIONS
    advisors_created: list[tuple[str, str]] = field(default_factory=list)  # (name, agency id)
    # Against the write path (store.import_corrections): corrected fields kept or replaced, the
    # open cases whose client changed (each audited, actor system:import), the cases moved.
    conflicts: list[Conflict] = field(default_factory=list)
    cases_audited: int = 0
    cases_moved: list[CaseMove] = field(default_factory=list)


# What the import sets: the CRM's columns. Others (housing status, opposition flags, whatever
# the application adds later) are never overwritten by a re-import.
_CLIENT_COLUMNS = ["id", "kind", "agency_id", *CLIENT_TEXT, "naf_nomenclature", "turnover_eur", "headcount",
                   "advisor_id", "source_hash"]
_CONTRACT_COLUMNS = ["id", "client_id", "family", "product", "effective_date", "status", "premium_eur",
                     "seller_id", "source_hash"]
# Prepared rows carry these columns except the last two, which only the writer can fill
# (store.import_prepare builds them in this order).


def client_columns(optional: tuple[str, ...] = ()) -> list[str]:
    """The client columns of one import: the optional columns the file has (csv_source
    OPTIONAL_COLUMNS: `civility`) come after `headcount`; a file without one leaves it alone."""
    return [*_CLIENT_COLUMNS[:-2], *optional, *_CLIENT_COLUMNS[-2:]]

# Files below this size are parsed in this process: forking costs more than it saves there.
PARALLEL_MIN_BYTES = 4 << 20
# The import connection's SQLite page cache, in KiB (measured on 1M rows: ~6 % less time in the
# writer for ~70 MB more memory; a longer WAL between checkpoints gave nothing measurable).
SQLITE_CACHE_KIB = 64 << 10

_NEW = object()
_PARIS = ZoneInfo("Europe/Paris")


def _batch_to_wire(batch: Batch) -> bytes:
    return marshal.dumps((batch.rows, batch.rejections, batch.read, batch.bytes_read))


def _batch_from_wire(data: bytes) -> Batch:
    return Batch(*marshal.loads(data))


def _max_quoted_lines() -> int:
    """M3_IMPORT_MAX_QUOTED_LINES; its default when the settings cannot be read."""
    from store.csv_source import MAX_ROW_LINES

    try:
        from config import get_settings

        return int(get_settings().import_max_quoted_lines)
    except Exception:  # noqa: BLE001 - an unreadable setting must not stop the import: the default
        return MAX_ROW_LINES


class _Importer:
    def __init__(self, engine: Engine, summary: ImportSummary, keep: int,
                 on_reject: Callable[[Rejection], None] | None, bulk: bool = False,
                 now: datetime | None = None, optional: tuple[str, ...] = ()):
        self.engine, self.summary, self.keep, self.on_reject = engine, summary, keep, on_reject
        self.client_columns = client_columns(optional)
        self.optional = optional
        with engine.connect() as conn:
            self.agencies = dict(conn.execute(select(Agency.id, Agency.name)).all())
            self.with_cases = completeness.any_case(conn)  # none (a first import): no counts to keep
        self.advisors = AdvisorDirectory(engine)
        self.hashes = StoredHashes(engine, [Client.__table__, Contract.__table__])
        # ... plus the folded search keys of each client (store/search_columns.py, migration 0010).
        self.client_upsert = Upsert(engine, Client.__table__, [*self.client_columns, *search_columns.COLUMNS])
        self.contract_upsert = Upsert(engine, Contract.__table__, _CONTRACT_COLUMNS)
        self.driver_values = self.client_upsert.raw  # SQLite: prepared values go to the driver as they are
        # Conflicts with corrections, and the audit of open cases: changed, already stored clients only.
        self.reconciler = Reconciler(self.client_columns, self.driver_values, now or datetime.now(timezone.utc))
        summary.conflicts, summary.cases_moved = self.reconciler.conflicts, self.reconciler.moves
        # One connection writes every batch (one transaction each), so its page cache carries
        # over from batch to batch.
        self.conn = engine.connect()
        self._cache_pages = None
        if self.driver_values and SQLITE_CACHE_KIB:
            # SQLite's default page cache (2 MiB) is far smaller than the indexes a million rows
            # build (the effective-date and client-id indexes take random inserts): a bounded
            # bigger cache for the import only, given back at the end.
            driver = self.conn.connection.driver_connection
            self._cache_pages = driver.execute("PRAGMA cache_size").fetchone()[0]
            driver.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            # The importer itself guarantees the references it writes (a batch writes its clients
            # before their contracts, and advisors are created before both), so SQLite's
            # per-row foreign-key lookups are pure cost here. On for everyone else.
            driver.execute("PRAGMA foreign_keys=OFF")
        # A large first import into empty tables: build the secondary indexes once, at the end.
        self._set_aside = []
        if self.driver_values and bulk:
            with self.conn.begin():
                self._set_aside = bulk_indexes.drop_if_empty(self.conn, [Client.__table__, Contract.__table__])

    def take(self, batch: Batch) -> None:
        """Count the batch's rows and rejections, then write it."""
        self.summary.read += batch.read
        for line, column, reason, content in batch.rejections:
            self.reject(line, column, reason, content)
        if batch.rows:
            self.write(batch.rows)

    def reject(self, line: int, column: str, reason: str, content=()) -> None:
        self.summary.rejected += 1
        rejection = Rejection(line, column, reason, tuple(content))
        if len(self.summary.rejections) < self.keep:
            self.summary.rejections.append(rejection)
        if self.on_reject:
            self.on_reject(rejection)

    def write(self, rows: list[tuple]) -> None:
        """Write prepared rows, one transaction. A value the database refuses (one the checks let
        through) fails the transaction: the rows are then written again by halves, down to the
        rows that fail alone, which are rejected with their line (issue 9, hole 2: never the
        batch). A batch without such a value, the rule, costs nothing more."""
        reconciler = self.reconciler
        mark = (len(reconciler.conflicts), len(reconciler.moves), reconciler.cases_audited)
        try:
            self._write(rows)
        except UNSTORABLE as exc:
            del reconciler.conflicts[mark[0]:], reconciler.moves[mark[1]:]
            reconciler.cases_audited = mark[2]
            if len(rows) == 1:
                self.reject(rows[0][9], "-", unstorable_reason(exc), self._as_exported(rows[0]))
                return
            half = len(rows) // 2
            self.write(rows[:half])
            self.write(rows[half:])

    def _as_exported(self, r: tuple) -> list[str]:
        """A prepared row back in the export's columns, for the rejects file (its values as
        prepared: a valid phone in E.164, codes in their canonical spelling)."""
        values = {**dict(zip(self.client_columns, r[4])), **dict(zip(_CONTRACT_COLUMNS, r[5]))}
        values.update(contract_id=r[1], client_id=r[0], client_kind=values["kind"], agency=r[8], advisor=r[6],
                      seller=r[7], effective_date=str(values["effective_date"]))
        return kept("" if values.get(c) is None else str(values[c]) for c in (*COLUMNS, *self.optional))

    def _write(self, rows: list[tuple]) -> None:
        s = self.summary
        stored_clients = self.hashes.get(Client.__table__, list({r[0] for r in rows}))
        stored_contracts = self.hashes.get(Contract.__table__, list({r[1] for r in rows}))
        if not stored_clients and not stored_contracts and self._first_write(rows):
            return
        new_clients = {r[0] for r in rows if r[0] not in stored_clients}
        clients: dict[str, tuple] = {}  # the last changed row of each client: its final state
        contracts: dict[str, tuple] = {}
        imported = updated = unchanged = 0
        for r in rows:
            cid, kid, client_hash, contract_hash = r[0], r[1], r[2], r[3]
            client_changed = stored_clients.get(cid, "") != client_hash
            if client_changed:
                stored_clients[cid] = client_hash
                clients[cid] = r
            previous = stored_contracts.get(kid, _NEW)  # a stored NULL hash: written by someone else
            if previous is _NEW:
                imported += 1
            elif previous != contract_hash or client_changed:
                updated += 1
            else:
                unchanged += 1
            if previous != contract_hash:
                stored_contracts[kid] = contract_hash
                contracts[kid] = r
        if clients or contracts:
            self._store(clients, contracts, new_clients)
        # Counted once written: rows written again by halves (`write`) are counted once.
        s.imported, s.updated, s.unchanged = s.imported + imported, s.updated + updated, s.unchanged + unchanged
        s.clients_created += len(new_clients)
        s.clients_updated += len(clients.keys() - new_clients)
        s.cases_audited = self.reconciler.cases_audited

    def _first_write(self, rows: list[tuple]) -> bool:
        """The batch when none of its clients and contracts is stored (a first import), each
        contract once: every row is imported and each client's last row is its state (rows of
        one client with one hash hold the same values), as the loop of `_write` would find, at
        ~1.5 µs less a row (docs/performance-import.md). False, having done nothing, otherwise."""
        contracts = {r[1]: r for r in rows}
        if len(contracts) != len(rows):  # a contract twice in the batch: the loop counts it
            return False
        clients = {r[0]: r for r in rows}
        self._store(clients, contracts, set(clients))
        s = self.summary
        s.imported += len(rows)
        s.clients_created += len(clients)
        s.cases_audited = self.reconciler.cases_audited
        return True

    def _store(self, clients: dict[str, tuple], contracts: dict[str, tuple], new_clients: set[str]) -> None:
        ids = self._advisor_ids(clients.values(), contracts.values())
        client_params = [r[4] + (ids[r[6]], r[2]) for r in clients.values()]
        contract_params = [r[5] + (ids[r[7]], r[3]) for r in contracts.values()]
        existing = [cid for cid in clients if cid not in new_clients]
        with self.conn.begin():
            client_params, pending = self.reconciler.prepare(self.conn, existing, client_params)
            client_params = search_columns.extend_rows(self.client_columns, client_params)  # the values upserted
            self.client_upsert.run(self.conn, client_params)
            self.contract_upsert.run(self.conn, contract_params)
            self.reconciler.finish(self.conn, pending)
            if self.with_cases:  # a product or a kind may have changed: their cases' document counts
                completeness.after_import(self.conn, list(contracts), existing)

    def close(self) -> None:
        self.hashes.close()
        if self._set_aside:
            with self.conn.begin():
                bulk_indexes.restore(self.conn, self._set_aside)
        if self._cache_pages is not None:
            driver = self.conn.connection.driver_connection
            driver.execute(f"PRAGMA cache_size={self._cache_pages}")
            driver.execute("PRAGMA foreign_keys=ON")
        self.conn.close()

    def _advisor_ids(self, client_rows, contract_rows) -> dict[str | None, int | None]:
        """{name as written: advisor id} for the batch, creating the unknown advisors first."""
        # Distinct (name, agency) pairs first: a batch names about ten advisors 5,000 times.
        named = {(r[6], r[8]) for r in client_rows if r[6]}
        named |= {(r[7], r[8]) for r in contract_rows if r[7]}
        known, wanted = self.advisors.known, {}
        for name, agency_id in sorted(named):
            if not known(name):
                wanted.setdefault(name_key(name), (name, agency_id))
        before = len(self.advisors.created)
        self.advisors.ensure(wanted)
        self.summary.advisors_created.extend(self.advisors.created[before:])
        ids: dict[str | None, int | None] = {None: None}
        for name, _ in named:
            ids[name] = self.advisors.id_for(name)
        return ids


def import_file(engine: Engine, path: str | Path, *, batch_rows: int = BATCH_ROWS,
                keep_rejections: int = KEEP_REJECTIONS,
                on_reject: Callable[[Rejection], None] | None = None,
                on_progress: Callable[[int, int], None] | None = None,
                parallel: bool | None = None, now: datetime | None = None,
                max_quoted_lines: int | None = None) -> ImportSummary:
    """Import the export at `path`. Raises csv_source.SourceError when the file cannot be read,
    ImportInterrupted when the database stops it (and a DBAPIError that store.unreachable calls
    unreachable as it is, for the API's 503).

    on_reject(rejection) is called for every rejected row, as it comes (the summary keeps only
    the first `keep_rejections`); on_progress(bytes_read, rows_read) after every batch. `now`:
    the time of the audit records the import writes on open cases, and its date the end of the
    plausible effective dates (default: the clock). `max_quoted_lines`: the most lines a row
    may span (default: the setting M3_IMPORT_MAX_QUOTED_LINES).
    """
    with fewer_collections():  # store.import_gc: the collector's passes were 6-9 % of each process's CPU
        return _import_file(engine, path, batch_rows, keep_rejections, on_reject, on_progress, parallel, now,
                            max_quoted_lines)


def _import_file(engine: Engine, path: str | Path, batch_rows: int, keep_rejections: int,
                 on_reject: Callable[[Rejection], None] | None, on_progress: Callable[[int, int], None] | None,
                 parallel: bool | None, now: datetime | None, max_quoted_lines: int | None) -> ImportSummary:
    summary = ImportSummary()
    now = now or datetime.now(timezone.utc)
    today = now.astimezone(_PARIS).date()
    if max_quoted_lines is None:
        max_quoted_lines = _max_quoted_lines()
    # SourceError before anything is written
    source = CsvSource(path, max_row_lines=max_quoted_lines, limits=LIMITS)
    if parallel is None:
        parallel = source.total_bytes >= PARALLEL_MIN_BYTES
    try:
        importer = _Importer(engine, summary, keep_rejections, on_reject, bulk=parallel, now=now,
                             optional=source.optional)
    except BaseException:
        source.close()
        raise

    def batches():
        return prepared_batches(source, importer.agencies, batch_rows, importer.driver_values, today)

    if parallel and importer.driver_values:
        # SQLite's prepared values are plain (str, int, float, None): marshal writes a batch in
        # the worker ~2.4× faster than pickle (~2 µs less a row), and reads it as fast.
        stream = map(_batch_from_wire, in_worker(lambda: map(_batch_to_wire, batches())))
    else:
        stream = in_worker(batches) if parallel else batches()
    try:
        for batch in stream:
            importer.take(batch)
            if on_progress:
                on_progress(batch.bytes_read, summary.read)
    except DBAPIError as exc:
        if is_unreachable(exc):
            raise
        raise ImportInterrupted(f"écriture interrompue par la base de données ({db_error_text(exc)}) : les lots "
                                "déjà écrits sont conservés, relancer l'import complète le reste") from None
    finally:
        importer.close()
        source.close()
    return summary
