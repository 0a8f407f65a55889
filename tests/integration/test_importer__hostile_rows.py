"""The import on rows an attacker or a broken export sends (issue 9, holes 2 and 5), on both
databases: each such row is rejected alone, with its line and reason, every good row around it
is stored, and nothing of any row reaches a log, a message or a traceback; the rejects file is
the one place that keeps the rejected rows."""
from __future__ import annotations

import codecs
import logging
import traceback
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from store import csv_source, import_rows
from store.csv_source import COLUMNS
from store.importer import ImportInterrupted, import_file
from store.tables import Client, Contract
from tests.import_csv import BASE

CLIENT, CONTRACT = Client.__table__, Contract.__table__


def _line(**values) -> bytes:
    """One row as the export writes it, nothing quoted (a stray quote stays a stray quote)."""
    return ";".join(dict(BASE, **values).get(c, "") for c in COLUMNS).encode()


def _file(tmp_path, lines: list[bytes], name="book.csv"):
    path = tmp_path / name
    path.write_bytes(b"\r\n".join([";".join(COLUMNS).encode(), *lines]) + b"\r\n")
    return path


def _good(i: int, **values) -> bytes:
    return _line(contract_id=f"K{i}", client_id=f"C{i}", **values)


def _contracts(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(CONTRACT.c.id)).scalars(), key=lambda k: int(k[1:]))


def test_importer__a_5_mb_field_rejects_its_row_and_the_good_rows_after_it_are_stored(engine, tmp_path):
    # The case, in small: batches already written, the huge field, then good rows again.
    lines = [_good(i) for i in range(1, 12)]
    lines[7] = _good(8, activity="x" * 5_000_000)  # line 9
    s = import_file(engine, _file(tmp_path, lines), batch_rows=3)
    assert (s.read, s.imported, s.rejected) == (11, 10, 1)
    assert s.rejections[0].line == 9 and "ligne trop longue" in s.rejections[0].reason
    assert _contracts(engine) == [f"K{i}" for i in range(1, 12) if i != 8]


def test_importer__an_unbalanced_quote_rejects_its_row_and_the_rest_of_the_file_is_read(engine, tmp_path):
    lines = [_good(i) for i in range(1, 20)]
    lines[2] = _good(3, city='"Marseille')  # line 4: the quote never closes
    lines[12] = _good(13, address='"12 rue du Port ; bât. B')  # line 14: nor this one
    s = import_file(engine, _file(tmp_path, lines), batch_rows=4)
    assert [(r.line, r.column) for r in s.rejections] == [(4, "-"), (14, "-")]
    assert all("guillemet non fermé" in r.reason for r in s.rejections)
    assert _contracts(engine) == [f"K{i}" for i in range(1, 20) if i not in (3, 13)]


def test_importer__the_lines_a_row_may_span_are_the_setting_m3_import_max_quoted_lines(engine, tmp_path, monkeypatch):
    import config

    lines = [_good(1, address='"12 rue du Port\r\nbâtiment B\r\n3e étage"'), _good(2)]
    monkeypatch.setenv("M3_IMPORT_MAX_QUOTED_LINES", "2")
    config.get_settings.cache_clear()
    try:
        s = import_file(engine, _file(tmp_path, lines))
    finally:
        monkeypatch.delenv("M3_IMPORT_MAX_QUOTED_LINES")
        config.get_settings.cache_clear()
    assert s.rejections[0].line == 2 and "plus de 2 lignes" in s.rejections[0].reason
    assert "K2" in _contracts(engine)
    s = import_file(engine, _file(tmp_path, lines))  # the default, 5: the address on three lines is read
    assert s.rejected == 0 and sorted(_contracts(engine)) == ["K1", "K2"]


TEXT_COLUMNS = ("contract_id", "client_id", "last_name", "first_name", "company_name", "address", "postal_code",
                "city", "phone", "email", "marital_status", "professional_status", "siret", "naf_code", "activity",
                "insurance_contact", "advisor", "seller", "product")


def test_importer__a_nul_in_any_text_field_rejects_its_row_never_the_batch(engine, tmp_path):
    lines, nul_lines = [], {}
    for i, column in enumerate(TEXT_COLUMNS, start=1):
        lines.append(_good(100 + i))
        value = {"contract_id": f"K{i}", "client_id": f"C{i}"}.get(column) or BASE[column] or "texte"
        lines.append(_line(**{"contract_id": f"K{i}", "client_id": f"C{i}", column: value[:1] + "\x00" + value[1:]}))
        nul_lines[len(lines) + 1] = column
    s = import_file(engine, _file(tmp_path, lines))  # one batch: PostgreSQL used to refuse all of it
    assert {r.line: r.column for r in s.rejections} == nul_lines
    assert all("NUL" in r.reason for r in s.rejections)
    assert _contracts(engine) == [f"K{100 + i}" for i in range(1, len(TEXT_COLUMNS) + 1)]
    assert (s.read, s.imported, s.rejected) == (2 * len(TEXT_COLUMNS), len(TEXT_COLUMNS), len(TEXT_COLUMNS))


def test_importer__implausible_contract_values_are_rejected_with_their_reason(engine, tmp_path, now):
    # now: 15 April 2026, so effective dates run from 01/01/1900 to 15/04/2031.
    bad = {
        3: dict(premium_eur="-12,50"), 4: dict(effective_date="0001-01-01"), 5: dict(effective_date="31/12/9999"),
        6: dict(effective_date="1899-12-31"), 7: dict(effective_date="16/04/2031"), 8: dict(last_name="x" * 5_000),
        9: dict(product="Auto " * 1_000), 10: dict(activity="y" * 5_000), 11: dict(marital_status="z" * 5_000),
        12: dict(premium_eur="1.5e999999999"), 13: dict(premium_eur="10000000000"),
    }
    lines = [_good(1, effective_date="1900-01-01"), _good(2, effective_date="15/04/2031")]
    lines += [_good(i, **values) for i, values in bad.items()]
    s = import_file(engine, _file(tmp_path, lines), now=now)
    got = {r.line - 1: (r.column, r.reason) for r in s.rejections}
    assert {k: c for k, (c, _) in got.items()} == {
        3: "premium_eur", 4: "effective_date", 5: "effective_date", 6: "effective_date", 7: "effective_date",
        8: "last_name", 9: "product", 10: "activity", 11: "marital_status", 12: "premium_eur", 13: "premium_eur"}
    assert got[3][1] == "prime négative : '-12,50' (une prime est positive ou nulle)"
    assert got[4][1] == ("date d'effet invraisemblable : '0001-01-01' (attendu entre le 01/01/1900 et le 15/04/2031)")
    assert got[8][1] == "valeur trop longue (5000 caractères, maximum 100)"
    assert _contracts(engine) == ["K1", "K2"]


def test_importer__implausible_crm_numbers_are_stored_empty_to_correct(engine, tmp_path):
    lines = [_good(1, client_kind="entreprise", company_name="Sud SAS", turnover_eur="-5 000", headcount="²"),
             _good(2, client_kind="entreprise", company_name="Nord SAS", turnover_eur="1 234,5", headcount="99999999"),
             _good(3, client_kind="entreprise", company_name="Est SAS", turnover_eur="2e9", headcount="12")]
    s = import_file(engine, _file(tmp_path, lines))
    assert s.rejected == 0
    with engine.connect() as conn:
        got = {r.id: (r.turnover_eur, r.headcount) for r in conn.execute(select(CLIENT))}
    assert got["C1"] == (None, None) and got["C2"][1] is None and got["C3"] == (None, 12)
    assert Decimal(str(got["C2"][0])) == Decimal("1234.5")


@pytest.fixture
def surrogates():
    """The reader decodes bad bytes to lone surrogates, which no database can encode: values the
    importer's checks do not foresee (the real decoder never makes them), to reach the writer."""
    codecs.register_error("m3_cp1252_fallback", codecs.lookup_error("surrogateescape"))
    try:
        yield
    finally:
        codecs.register_error("m3_cp1252_fallback", csv_source._cp1252_fallback)


def test_importer__a_value_the_database_refuses_rejects_its_row_not_the_batch(engine, tmp_path, surrogates):
    lines = [_good(i) for i in range(1, 10)]
    lines[3] = _good(4).replace(b"K4;", b"K\xff4;")  # the contract id: in no hash, so only the writer meets it
    lines[6] = _good(7).replace(b"Dupont", b"Dup\xffont")  # a client value: met while preparing the row
    s = import_file(engine, _file(tmp_path, lines), batch_rows=20)
    assert sorted((r.line, r.column) for r in s.rejections) == [(5, "-"), (8, "-")]
    assert all("substitut UTF-16" in r.reason for r in s.rejections)
    assert _contracts(engine) == [f"K{i}" for i in range(1, 10) if i not in (4, 7)]
    assert (s.read, s.imported, s.rejected, s.clients_created) == (9, 7, 2, 7)


def test_importer__a_length_only_postgresql_enforces_is_a_rejection_there(engine, tmp_path, monkeypatch):
    # The checks' own limit lifted: the 70-character id reaches the database. PostgreSQL refuses
    # it (VARCHAR(64)) for that row alone; SQLite, which does not enforce lengths, stores it.
    monkeypatch.setattr(import_rows, "_LIMITS", tuple(10**6 for _ in import_rows._LIMITS))
    long_id = "K" + "9" * 69
    lines = [_good(1), _line(contract_id=long_id, client_id="C2"), _good(3)]
    s = import_file(engine, _file(tmp_path, lines))
    if engine.dialect.name == "postgresql":
        assert [(r.line, r.column) for r in s.rejections] == [(3, "-")]
        assert "dépasse la longueur de sa colonne" in s.rejections[0].reason
        assert _contracts(engine) == ["K1", "K3"]
    else:
        assert s.rejected == 0 and long_id in _contracts(engine)


# ---------------------------------------------------------------- no row content outside the rejects file
SECRETS = {"name": "Zébulonnette", "first": "Philomène", "email": "zeb.secret@example.org", "phone": "06 98 76 54 32",
           "digits": "0698765432", "e164": "+33698765432"}


def _poisoned(tmp_path) -> tuple:
    own = dict(last_name=SECRETS["name"], first_name=SECRETS["first"], email=SECRETS["email"], phone=SECRETS["phone"])
    lines = [_good(i, **own) for i in range(1, 6)]
    lines += [_good(6, **dict(own, last_name=SECRETS["name"] + "\x00")),  # NUL
              _good(7, **dict(own, city='"Marseille')),  # a quote never closed
              _good(8, **dict(own, activity="x" * 200_000)),  # a line past the limit
              _good(9, **dict(own, premium_eur="-1")), _good(10, **dict(own, effective_date="9999-12-31")),
              _good(11, **own).replace(b"K11;", b"K\xff11;")]  # a value only the writer meets (surrogates)
    lines += [_good(i, **own) for i in range(12, 16)]
    return _file(tmp_path, lines), 6


def _leaks(text: str) -> list[str]:
    return [k for k, v in SECRETS.items() if v in text]


def test_importer__no_row_content_in_logs_or_output_of_a_poisoned_import(engine, tmp_path, caplog, capfd, surrogates):
    caplog.set_level(logging.DEBUG)  # every logger, SQLAlchemy's statements included
    path, bad = _poisoned(tmp_path)
    s = import_file(engine, path, parallel=True, batch_rows=4)  # the parsing worker too
    assert s.rejected == bad and s.imported == 15 - bad
    out, err = capfd.readouterr()
    assert not _leaks(caplog.text) and not _leaks(out) and not _leaks(err)
    assert not _leaks(" ".join(f"{r!r} {r.reason}" for r in s.rejections))
    assert any(SECRETS["name"] in " ".join(r.content) for r in s.rejections)  # kept for the rejects file only


def test_importer__a_database_error_that_stops_the_import_carries_no_row_content(engine, tmp_path, caplog,
                                                                               monkeypatch):
    # A bug makes every client row break a NOT NULL constraint: PostgreSQL's error names the
    # failing row in full ("Failing row contains (...)"), and the statement's parameters are the
    # whole batch. The import stops, saying which constraint, and nothing of the rows.
    from store import import_prepare

    real = import_prepare._client_values
    monkeypatch.setattr(import_prepare, "_client_values", lambda *a: (a[1], None, *real(*a)[2:]))
    caplog.set_level(logging.DEBUG)
    path, _ = _poisoned(tmp_path)
    with pytest.raises(ImportInterrupted) as exc:
        import_file(engine, path, parallel=False)
    shown = "".join(traceback.format_exception(exc.value)) + caplog.text
    assert "NotNullViolation" in shown or "IntegrityError" in shown
    assert not _leaks(shown) and "Failing row" not in shown


def test_cli_import__console_and_rejects_file_of_a_poisoned_file(m3, tmp_path, surrogates):
    path, bad = _poisoned(tmp_path)
    result = m3("import", str(path))
    assert result.exit_code == 0, result.output
    assert f"rejetées {bad}" in result.output and not _leaks(result.output)
    rejects = (tmp_path / "book.rejets.csv").read_text(encoding="utf-8", errors="replace").splitlines()
    assert len(rejects) == 1 + bad and all(SECRETS["name"] in line for line in rejects[1:])  # the rows, to fix
    assert rejects[1].startswith("7;last_name;caractère NUL") and "Zébulonnette\u2400" in rejects[1]


def test_importer__effective_dates_end_five_years_after_the_import(engine, tmp_path):
    from datetime import datetime, timezone

    at = datetime(2024, 2, 29, 12, tzinfo=timezone.utc)
    s = import_file(engine, _file(tmp_path, [_good(1, effective_date="28/02/2029"), _good(2, effective_date="01/03/2029")]),
                    now=at)
    assert [r.line for r in s.rejections] == [3] and "le 28/02/2029" in s.rejections[0].reason
    assert import_rows.latest_effective(date(2026, 12, 1)) == date(2031, 12, 1)
