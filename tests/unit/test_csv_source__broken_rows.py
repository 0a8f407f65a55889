"""The CSV reader on rows it cannot read (issue 9, hole 5): each is yielded as an UnreadableRow at
its first line, with its reason, and reading goes on at the next line; the good rows around it
are read as if it were not there."""
import pytest

from store.csv_source import COLUMNS, MAX_LINE, CsvSource, UnreadableRow
from tests.import_csv import BASE


def _line(**values) -> str:
    return ";".join(dict(BASE, **values).get(c, "") for c in COLUMNS)


def _write(tmp_path, lines: list[str], end: str = "\r\n"):
    path = tmp_path / "x.csv"
    path.write_bytes((end.join([";".join(COLUMNS), *lines]) + end).encode())
    return path


def _read(path, **options):
    """[(line, contract id or ('BAD', column, reason))]"""
    out = []
    for line, fields in CsvSource(path, limits={"city": 100, "address": 200, "email": 320}, **options).rows():
        out.append((line, ("BAD", fields.column, fields.reason) if isinstance(fields, UnreadableRow) else fields[0]))
    return out


def _good(rows):
    return [(line, f) for line, f in rows if not isinstance(f, tuple)]


def _bad(rows):
    return [(line, f[1]) for line, f in rows if isinstance(f, tuple)]


def test_csv_source__an_unclosed_quote_rejects_its_row_and_reading_resumes_at_the_next_line(tmp_path):
    lines = [_line(contract_id=f"K{i}") for i in range(12)]
    lines[2] = _line(contract_id="K2", city='"Marseille ; 7e')  # line 4: opened, never closed
    rows = _read(_write(tmp_path, lines))
    assert _bad(rows) == [(4, "-")]
    assert "guillemet non fermé" in rows[2][1][2] and "plus de 5 lignes" in rows[2][1][2]
    assert _good(rows) == [(i + 2, f"K{i}") for i in range(12) if i != 2]


def test_csv_source__the_lines_a_row_may_span_are_a_setting(tmp_path):
    lines = [_line(contract_id="K0", address='"12 rue\r\nbâtiment B\r\n3e étage"'), _line(contract_id="K1")]
    path = _write(tmp_path, lines)
    assert _read(path, max_row_lines=3) == [(2, "K0"), (5, "K1")]  # three lines: within the limit
    rows = _read(path, max_row_lines=2)
    assert _bad(rows)[0] == (2, "-") and (5, "K1") in rows  # past it: rejected, its next lines read as rows


def test_csv_source__a_quote_left_open_at_the_end_of_the_file_is_rejected_not_swallowed(tmp_path):
    rows = _read(_write(tmp_path, [_line(contract_id="K0"), _line(contract_id="K1", city='"Mars'),
                                   _line(contract_id="K2")]))
    assert _bad(rows) == [(3, "-")] and "fin du fichier" in rows[1][1][2]
    assert _good(rows) == [(2, "K0"), (4, "K2")]


def test_csv_source__a_stray_quote_closed_by_a_later_one_loses_none_of_the_rows_between(tmp_path):
    # Line 3's quote is closed by line 5's: the reader sees one row over three lines.
    lines = [_line(contract_id="K0"), _line(contract_id="K1", city='"Marseille ; 7e'), _line(contract_id="K2"),
             _line(contract_id="K3", city='"Aubagne ; centre'), _line(contract_id="K4")]
    rows = _read(_write(tmp_path, lines))
    assert _good(rows) == [(2, "K0"), (4, "K2"), (6, "K4")]
    assert _bad(rows) == [(3, "-"), (5, "-")]
    # Same, with the right number of fields by chance: the field spanning the lines is past its limit.
    lines = [_line(contract_id="K0", city='"Marseille'), _line(contract_id="K1"), _line(contract_id="K2", city='"Aix')]
    rows = _read(_write(tmp_path, lines))
    assert rows[0] == (2, ("BAD", "city", rows[0][1][2])) and "dépasse sa limite" in rows[0][1][2]
    assert (3, "K1") in rows and _bad(rows)[-1][0] == 4


def test_csv_source__fields_on_several_lines_within_their_limits_are_read_as_one_row(tmp_path):
    lines = [_line(contract_id="K0", address='"12 rue de la Corniche\r\nbâtiment B"'),
             _line(contract_id="K1", email='"a@b.fr\r\nBcc: x@y.fr"'), _line(contract_id="K2")]
    path = _write(tmp_path, lines)
    assert _read(path) == [(2, "K0"), (4, "K1"), (6, "K2")]
    [(_, first), *_] = CsvSource(path).rows()
    assert first[COLUMNS.index("address")] == "12 rue de la Corniche\r\nbâtiment B"


@pytest.mark.parametrize("size", [MAX_LINE, 5_000_000])
def test_csv_source__a_line_past_the_limit_is_rejected_and_the_next_ones_are_read(tmp_path, size):
    lines = [_line(contract_id="K0"), _line(contract_id="K1", activity="x" * size), _line(contract_id="K2")]
    rows = _read(_write(tmp_path, lines))
    assert rows[0] == (2, "K0") and rows[2] == (4, "K2")
    assert rows[1][0] == 3 and "ligne trop longue" in rows[1][1][2]
    [bad] = [f for _, f in CsvSource(_write(tmp_path, lines)).rows() if isinstance(f, UnreadableRow)]
    assert len(bad.content[0]) <= 1_001  # the rejects file keeps its beginning, not 5 MB


def test_csv_source__a_long_line_inside_an_open_quote_rejects_both_rows(tmp_path):
    lines = [_line(contract_id="K0", city='"Mars'), _line(contract_id="K1"), _line(contract_id="K2", activity="x" * MAX_LINE),
             _line(contract_id="K3")]
    rows = _read(_write(tmp_path, lines))
    assert _bad(rows) == [(2, "-"), (4, "-")] and _good(rows) == [(3, "K1"), (5, "K3")]


@pytest.mark.parametrize("end", ["\r\n", "\n", "\r"])
def test_csv_source__line_numbers_stay_right_after_a_line_cut_at_the_limit(tmp_path, end):
    # The limit falls just between the CR and the LF of a CRLF line: no extra line is counted.
    long_line = "x" * (MAX_LINE - 1)
    rows = _read(_write(tmp_path, [_line(contract_id="K0"), long_line, _line(contract_id="K2"), _line(contract_id="K3")],
                        end=end))
    assert _good(rows) == [(2, "K0"), (4, "K2"), (5, "K3")] and _bad(rows) == [(3, "-")]


@pytest.mark.parametrize("column", ["last_name", "email", "contract_id", "product", "advisor"])
def test_csv_source__a_nul_character_rejects_its_row_naming_the_column(tmp_path, column):
    value = BASE[column] or "x"
    lines = [_line(contract_id="K0"), _line(**{column: value[:2] + "\x00" + value[2:]}), _line(contract_id="K2")]
    rows = _read(_write(tmp_path, lines))
    assert rows[0] == (2, "K0") and rows[2] == (4, "K2")
    assert rows[1][0] == 3 and rows[1][1][:2] == ("BAD", column) and "NUL" in rows[1][1][2]
