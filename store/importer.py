"""`import_file`: the CRM contract export → client and contract tables, streamed in batches.

Why batches with a hash: the export is re-sent whole every time, so most rows are unchanged.
Each batch (5,000 rows) reads the stored `source_hash` of its clients and contracts in two
indexed queries, then writes only the rows that are new or whose CRM values changed, with one
multi-row upsert per table (`INSERT ... ON CONFLICT (id) DO UPDATE`, SQLite and PostgreSQL).
Re-importing the same file therefore writes nothing. Each batch is its own transaction, so a
crash part-way leaves whole batches, and re-running the import completes the rest.

Tried and dropped: writing batches on a background thread while the next is parsed. The
sqlite3 driver releases the GIL only around each row's step, so the writer thread queued for
the GIL row after row (convoy effect) and a million-row import took as long as without it.

Counting is sequential within the file: a row is *imported* when its contract is new, *updated*
when its contract or its client's values differ from what was stored before it (in the database
or earlier in the file), *unchanged* otherwise. Later rows win (a client's kind, say).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from store.advisor_directory import AdvisorDirectory, name_key
from store.csv_source import CsvSource
from store.bulk_upsert import StoredHashes, Upsert
from store.crm_fields import normalise_client
from store.import_rows import CLIENT_TEXT, ParsedRow, RowParser, RowRejected, client_values
from store.tables import Agency, Client, Contract

BATCH_ROWS = 5_000
KEEP_REJECTIONS = 1_000  # in the summary; the rest are counted and go to on_reject only


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str
    reason: str


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


# What the import sets: the CRM's columns. Others (housing status, opposition flags, whatever
# the application adds later) are never overwritten by a re-import.
_CLIENT_COLUMNS = ["id", "kind", "agency_id", *CLIENT_TEXT, "naf_nomenclature", "turnover_eur", "headcount",
                   "advisor_id", "source_hash"]
_CONTRACT_COLUMNS = ["id", "client_id", "family", "product", "effective_date", "status", "seller_id",
                     "premium_eur", "source_hash"]


_NEW = object()


class _Importer:
    def __init__(self, engine: Engine, summary: ImportSummary, keep: int,
                 on_reject: Callable[[Rejection], None] | None):
        self.engine, self.summary, self.keep, self.on_reject = engine, summary, keep, on_reject
        with engine.connect() as conn:
            agencies = dict(conn.execute(select(Agency.id, Agency.name)).all())
        self.parser = RowParser(agencies)
        self.advisors = AdvisorDirectory(engine)
        self.hashes = StoredHashes(engine, [Client.__table__, Contract.__table__])
        self.client_upsert = Upsert(engine, Client.__table__, _CLIENT_COLUMNS)
        self.contract_upsert = Upsert(engine, Contract.__table__, _CONTRACT_COLUMNS)

    def reject(self, line: int, column: str, reason: str) -> None:
        self.summary.rejected += 1
        rejection = Rejection(line, column, reason)
        if len(self.summary.rejections) < self.keep:
            self.summary.rejections.append(rejection)
        if self.on_reject:
            self.on_reject(rejection)

    def parse(self, line: int, fields: list[str]) -> ParsedRow | None:
        self.summary.read += 1
        try:
            return self.parser.parse(line, fields)
        except RowRejected as exc:
            self.reject(line, exc.column, exc.reason)
            return None

    def stored(self, rows: list[ParsedRow]) -> tuple[dict, dict]:
        """The hashes stored for the batch's client and contract ids."""
        return (self.hashes.get(Client.__table__, list({r.client_id for r in rows})),
                self.hashes.get(Contract.__table__, list({r.contract["id"] for r in rows})))

    def write(self, rows: list[ParsedRow]) -> None:
        s = self.summary
        stored_clients, stored_contracts = self.stored(rows)
        new_clients = {cid for cid in (r.client_id for r in rows) if cid not in stored_clients}
        clients: dict[str, ParsedRow] = {}  # the last changed row of each client: its final state
        contracts: dict[str, ParsedRow] = {}
        for r in rows:
            cid, kid = r.client_id, r.contract["id"]
            client_changed = stored_clients.get(cid, "") != r.client_hash
            if client_changed:
                stored_clients[cid] = r.client_hash
                clients[cid] = r
            previous = stored_contracts.get(kid, _NEW)  # a stored NULL hash: written by someone else
            if previous is _NEW:
                s.imported += 1
            elif previous != r.contract_hash or client_changed:
                s.updated += 1
            else:
                s.unchanged += 1
            if previous != r.contract_hash:
                stored_contracts[kid] = r.contract_hash
                contracts[kid] = r
        s.clients_created += len(new_clients)
        s.clients_updated += len(clients.keys() - new_clients)
        if not clients and not contracts:
            return
        self._ensure_advisors(clients.values(), contracts.values())
        client_values = [self._client_values(r) for r in clients.values()]
        contract_values = [dict(r.contract, seller_id=self.advisors.id_for(r.seller), source_hash=r.contract_hash)
                           for r in contracts.values()]
        with self.engine.begin() as conn:
            self.client_upsert.run(conn, client_values)
            self.contract_upsert.run(conn, contract_values)

    def close(self) -> None:
        self.hashes.close()

    def _client_values(self, r: ParsedRow) -> dict:
        values = normalise_client(client_values(r))
        values["advisor_id"] = self.advisors.id_for(r.advisor)
        values["source_hash"] = r.client_hash
        return values

    def _ensure_advisors(self, client_rows, contract_rows) -> None:
        # Distinct (name, agency) pairs first: a batch names about ten advisors 5,000 times.
        named = {(r.advisor, r.agency_id) for r in client_rows if r.advisor}
        named |= {(r.seller, r.agency_id) for r in contract_rows if r.seller}
        known, wanted = self.advisors.known, {}
        for name, agency_id in sorted(named):
            if not known(name):
                wanted.setdefault(name_key(name), (name, agency_id))
        before = len(self.advisors.created)
        self.advisors.ensure(wanted)
        self.summary.advisors_created.extend(self.advisors.created[before:])


def import_file(engine: Engine, path: str | Path, *, batch_rows: int = BATCH_ROWS,
                keep_rejections: int = KEEP_REJECTIONS,
                on_reject: Callable[[Rejection], None] | None = None,
                on_progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """Import the export at `path`. Raises csv_source.SourceError when the file cannot be read.

    on_reject(rejection) is called for every rejected row, as it comes (the summary keeps only
    the first `keep_rejections`); on_progress(bytes_read, rows_read) after every batch.
    """
    summary = ImportSummary()
    source = CsvSource(path)  # SourceError before anything is written
    importer = _Importer(engine, summary, keep_rejections, on_reject)
    batch: list[ParsedRow] = []
    parse = importer.parse
    try:
        for line, fields in source.rows():
            row = parse(line, fields)
            if row is not None:
                batch.append(row)
                if len(batch) >= batch_rows:
                    importer.write(batch)
                    batch = []
                    if on_progress:
                        on_progress(source.bytes_read, summary.read)
        if batch:
            importer.write(batch)
    finally:
        importer.close()
    if on_progress:
        on_progress(source.bytes_read, summary.read)
    return summary
