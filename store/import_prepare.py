"""CSV rows → batches of ready-to-write tuples: everything of the import that needs no database.

Split from the writing (store.importer) so that it can run in a worker process while the main
process writes the previous batch (store.import_worker): on two cores the ~20 µs of Python per
row overlaps the ~14 µs SQLite spends on it. So this stage is pure: it validates, normalises
and hashes rows, and keeps only the state that follows the file's order anyway (the last
client's columns). Whatever depends on the database — stored hashes, hence what is new or
changed, and advisor ids — is decided by the writer, in file order.

A prepared row is a plain tuple (cheap to build and to pickle; a dict per row cost ~1 µs):
  (client_id, contract_id, client_hash, contract_hash, client values, contract values,
   advisor name, seller name, agency id, line)
where client values follow importer's client columns up to `headcount` and contract values its
contract columns up to `premium_eur`; the writer appends the advisor/seller id and the hash.
With `driver_values` (SQLite), dates are already ISO text and amounts floats — what SQLAlchemy's
bind processors would have made of them — so the writer hands the tuples to the driver as is.

Rows of one client usually follow each other with identical client columns: the client's
values and hash are computed once per run of identical columns, and the run shares one tuple
(pickle then sends it once per batch).

A row is rejected alone, never the batch: a RowRejected from the checks, and any other error
met while preparing it (one the checks did not foresee), go to the batch's rejections as
(line, column, reason, content), `content` being what the rejects file keeps of the row.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from store.crm_fields import normalise_naf, normalise_phone
from store.csv_source import CsvSource, UnreadableRow, kept
from store.import_rows import (_CLIENT_TEXT_GET, CIVILITY_I, RowParser, RowRejected, client_hash as _client_hash,
                               civility, contract_hash, headcount, turnover)


@dataclass(slots=True)
class Batch:
    rows: list[tuple] = field(default_factory=list)  # prepared rows, in file order
    rejections: list[tuple[int, str, str, list[str]]] = field(default_factory=list)  # (line, column, reason, content)
    read: int = 0  # rows read, rejected ones included
    bytes_read: int = 0  # for the progress bar


def prepared_batches(source: CsvSource, agencies: dict[str, str], batch_rows: int,
                     driver_values: bool, today: date | None = None) -> Iterator[Batch]:
    """Batches of `batch_rows` valid rows (the last one shorter), with the rejections met on the
    way. `today`: the import's date (plausible effective dates)."""
    check = RowParser(agencies, len(source.columns), today).check
    # The optional `civility` column: when the file has it, it is a client column like the others
    # (hashed, written); when it has not, the rows carry no civility and the import keeps the
    # stored one. Its hash part is appended only when present, so a file without the column
    # hashes as before (no client looks changed).
    with_civility = "civility" in source.optional
    last_key: list[str] = []
    client_values: tuple = ()
    client_hash = ""
    # Values that repeat from row to row (product, advisor and seller names, the effective date
    # as ISO text, the client id along its rows) are kept as one object each: pickle sends each
    # once a batch and the writer's unpickling makes one object, not one a row.
    same: dict[str, str] = {}
    iso: dict[date, str] = {}
    batch = Batch()
    rows, rejections = batch.rows, batch.rejections
    read = 0
    for line, fields in source.rows():
        read += 1
        try:
            contract_id, client_id, kind, agency_id, family, product, effective, status, premium = check(fields)
            key = fields[1:21]  # client_id .. advisor: the client's columns, agency included
            if with_civility:
                key.append(fields[CIVILITY_I])
            if key != last_key:
                client_values = _client_values(fields, client_id, kind, agency_id, driver_values)
                if with_civility:
                    civ = civility(fields)
                    client_values += (civ,)
                    client_hash = _client_hash(fields, f"{agency_id}\x1fcivility={civ or ''}")
                else:
                    client_hash = _client_hash(fields, agency_id)
                last_key = key  # only once its values are built: a row that failed leaves no trace
            else:
                client_id = client_values[0]  # the run's one object
            effective_iso = iso.get(effective)
            if effective_iso is None:
                effective_iso = iso[effective] = effective.isoformat()
            product = same.setdefault(product, product)
            advisor, seller = fields[20].strip(), fields[21].strip()
            if driver_values:
                contract = (contract_id, client_id, family, product, effective_iso, status,
                            None if premium is None else float(premium))
            else:
                contract = (contract_id, client_id, family, product, effective, status, premium)
            rows.append((client_id, contract_id, client_hash, contract_hash(fields, family, effective_iso, status),
                         client_values, contract, same.setdefault(advisor, advisor) if advisor else None,
                         same.setdefault(seller, seller) if seller else None, agency_id, line))
        except RowRejected as exc:
            rejections.append((line, exc.column, exc.reason,
                               fields.content if fields.__class__ is UnreadableRow else kept(fields)))
            continue
        except Exception as exc:  # noqa: BLE001 - a row the checks did not foresee: rejected alone
            rejections.append((line, "-", unforeseen_reason(exc), kept(fields)))
            continue
        if len(rows) >= batch_rows:
            batch.read, batch.bytes_read = read, source.bytes_read
            yield batch
            if len(same) > 50_000:  # bounded: a file of distinct names must not grow it for ever
                same.clear()
            batch, read = Batch(), 0
            rows, rejections = batch.rows, batch.rejections
    batch.read, batch.bytes_read = read, source.bytes_read
    yield batch  # possibly empty: still carries the last rejections and the final count


def unforeseen_reason(exc: Exception) -> str:
    """The reason of a row rejected by an error no check foresaw: its kind only, never its
    message (which may quote the row)."""
    if isinstance(exc, UnicodeError):  # a lone surrogate: no database can encode it
        return "caractère invalide (substitut UTF-16 isolé) : valeur impossible à enregistrer"
    return f"ligne impossible à traiter ({type(exc).__name__})"


def _client_values(fields: list[str], client_id: str, kind: str, agency_id: str, driver_values: bool) -> tuple:
    """id, kind, agency_id, CLIENT_TEXT (phone in E.164 and NAF normalised when valid),
    naf_nomenclature, turnover_eur, headcount."""
    (last_name, first_name, company_name, address, postal_code, city, phone, email, marital_status,
     professional_status, siret, naf_code, activity, insurance_contact) = \
        [f.strip() or None for f in _CLIENT_TEXT_GET(fields)]
    naf_code, nomenclature = normalise_naf(naf_code)
    amount = turnover(fields)
    if driver_values and amount is not None:
        amount = float(amount)
    return (client_id, kind, agency_id, last_name, first_name, company_name, address, postal_code, city,
            normalise_phone(phone, postal_code), email, marital_status, professional_status, siret, naf_code,
            activity, insurance_contact, nomenclature, amount, headcount(fields))
