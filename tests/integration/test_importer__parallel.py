"""The import with its parsing in a worker process gives what the single-process import gives."""
from decimal import Decimal

import pytest

from store.csv_source import CsvSource, SourceError
from store.importer import import_file
from tests.conftest import _truncate
from tests.import_csv import row, write_csv
from tests.integration.test_importer__rows import _dump


def _book(tmp_path):
    rows = []
    for i in range(1, 60):
        c = i // 4  # a client's rows follow each other with the same client columns, as in the CRM's export
        overrides = dict(contract_id=f"K{i}", client_id=f"C{c}", advisor=f"Conseiller {c % 3}",
                         seller=f"Vendeur {i % 5}", agency="Rouvière" if c % 2 else "Corniche",
                         premium_eur=f"{i},5", effective_date=f"{i % 28 + 1:02d}/01/2026")
        if i % 11 == 0:
            overrides["family"] = "Auto"  # rejected
        if c % 3 == 0:
            overrides.update(phone="n/c", naf_code="6201z", turnover_eur="1 234,5", headcount="12")
        rows.append(row(**overrides))
    rows.append(row(contract_id="K5", client_id="C1", city="Aubagne"))  # a repeated id: the last row wins
    return write_csv(tmp_path / "book.csv", rows)


def _counts(s):
    return (s.read, s.imported, s.updated, s.unchanged, s.rejected, s.clients_created, s.clients_updated,
            [(r.line, r.column, r.reason) for r in s.rejections], s.advisors_created)


def test_importer__worker_process_gives_the_same_rows_counts_and_rejections(engine, tmp_path):
    path = _book(tmp_path)
    seen = []
    inline = import_file(engine, path, batch_rows=7, parallel=False)
    expected = _dump(engine)
    _truncate(engine)
    forked = import_file(engine, path, batch_rows=7, parallel=True, on_reject=seen.append)
    assert _counts(forked) == _counts(inline) and forked.rejected == len(seen) == 5
    assert _dump(engine) == expected
    clients, contracts, _ = expected
    assert {c.phone for c in clients} >= {"+33612345678", "n/c"} and "62.01Z" in {c.naf_code for c in clients}
    assert Decimal(str(contracts[0].premium_eur)) == Decimal("1.5")
    again = import_file(engine, path, batch_rows=7, parallel=True)
    assert (again.read, again.imported, again.clients_created) == (forked.read, 0, 0) and again.unchanged > 40


def test_importer__a_read_error_in_the_worker_stops_the_import(engine, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "book.csv", [row(contract_id=f"K{i}") for i in range(10)])
    rows = CsvSource.rows

    def failing(self):  # the disk fails after 9 rows (what rows() makes of an OSError)
        for n, item in enumerate(rows(self)):
            if n == 9:
                raise SourceError("fichier illisible : [Errno 5] Input/output error")
            yield item

    monkeypatch.setattr(CsvSource, "rows", failing)  # before the fork: the worker has it too
    with pytest.raises(SourceError, match="Input/output error"):
        import_file(engine, path, batch_rows=4, parallel=True)
    assert len(_dump(engine)[1]) == 8  # the whole batches before it are written


def test_importer__a_runaway_quote_in_the_worker_rejects_its_row_and_reading_goes_on(engine, tmp_path):
    rows = [row(contract_id=f"K{i}", client_id=f"C{i}", city="Marseille") for i in range(10)]
    path = write_csv(tmp_path / "book.csv", rows)
    line_6 = b"K4;C4;particulier;Dupont;Marie;;12 rue de la Corniche;13007;Marseille"
    path.write_bytes(path.read_bytes().replace(line_6, line_6.replace(b"Marseille", b'"Marseille'), 1))
    with path.open("ab") as fh:  # a quote opened and never closed on line 6; then a field longer than any line
        fh.write(b'K99;"' + b"x" * (2 << 20) + b"\r\n" + ";".join(row(contract_id="K100").values()).encode() + b"\r\n")
    s = import_file(engine, path, batch_rows=4, parallel=True)
    assert [(r.line, r.column) for r in s.rejections] == [(6, "-"), (12, "-")]
    assert "guillemet non fermé" in s.rejections[0].reason and "trop longue" in s.rejections[1].reason
    assert sorted(k.id for k in _dump(engine)[1]) == sorted([f"K{i}" for i in range(10) if i != 4] + ["K100"])
