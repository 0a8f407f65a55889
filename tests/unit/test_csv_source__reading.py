import pytest

from store.csv_source import COLUMNS, CsvSource, SourceError, check_header
from tests.import_csv import row, write_csv


def _rows(path):
    return list(CsvSource(path).rows())


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-8-sig"])
def test_csv_source__reads_both_encodings_and_delimiters(tmp_path, delimiter, encoding):
    path = write_csv(tmp_path / "x.csv", [row(agency="Rouvière", family="Santé", address="1, rue Émile")],
                     delimiter=delimiter, encoding=encoding)
    [(line, fields)] = _rows(path)
    assert line == 2
    values = dict(zip(COLUMNS, fields))
    assert values["agency"] == "Rouvière" and values["family"] == "Santé" and values["address"] == "1, rue Émile"


def test_csv_source__mixed_encodings_decided_per_line(tmp_path):
    path = write_csv(tmp_path / "x.csv", [row(city="Aubagne")])
    path.write_bytes(path.read_bytes() + ";".join(row(city="Salon-de-Provence", agency="Rouvière").values())
                     .encode("cp1252") + b"\r\n")
    rows = _rows(path)
    assert dict(zip(COLUMNS, rows[1][1]))["agency"] == "Rouvière"


def test_csv_source__columns_in_another_order_are_reordered(tmp_path):
    cols = tuple(reversed(COLUMNS))
    path = write_csv(tmp_path / "x.csv", [row(contract_id="K9")], columns=cols)
    [(_, fields)] = _rows(path)
    assert fields[0] == "K9" and len(fields) == len(COLUMNS)


def test_csv_source__line_numbers_skip_blank_lines_and_follow_multiline_fields(tmp_path):
    path = write_csv(tmp_path / "x.csv", [row(contract_id="K1", address="ligne 1\nligne 2"), row(contract_id="K2")])
    path.write_bytes(path.read_bytes() + b"\r\n" + ";".join(row(contract_id="K3").values()).encode() + b"\r\n")
    assert [(line, f[0]) for line, f in _rows(path)] == [(2, "K1"), (4, "K2"), (6, "K3")]


def test_csv_source__wrong_header_names_missing_and_unknown_columns(tmp_path):
    cols = tuple(c for c in COLUMNS if c != "family") + ("famille",)
    path = write_csv(tmp_path / "x.csv", [], columns=cols)
    with pytest.raises(SourceError) as exc:
        CsvSource(path)
    assert "colonnes manquantes : family" in str(exc.value) and "'famille'" in str(exc.value)


def test_csv_source__missing_empty_or_unreadable_file(tmp_path):
    with pytest.raises(SourceError, match="illisible"):
        CsvSource(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(SourceError, match="vide"):
        CsvSource(tmp_path / "empty.csv")
    with pytest.raises(SourceError):
        CsvSource(tmp_path)  # a directory


def test_check_header__duplicates_are_an_error():
    with pytest.raises(SourceError, match="en double"):
        check_header(list(COLUMNS) + ["city"])


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# (A CR alone is left out: with "\n" line ends, csv.writer does not quote it and writes a broken file.)
_FIELD = st.lists(st.sampled_from(["a", "b", " ", "é", ";", ",", '"', "\n", "\r\n", "x", "0"]), max_size=6).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(_FIELD, min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=8),
       st.sampled_from([";", ","]), st.sampled_from(["\r\n", "\n"]))
def test_csv_source__reads_what_the_csv_module_wrote(tmp_path_factory, rows, delimiter, end):
    # Lines without a quote are split by str.split, the others by the csv module: together they
    # read a well-formed file exactly as the csv module alone does, line numbers included.
    import csv
    import io

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=end)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    path.write_bytes(buf.getvalue().encode())
    reader = csv.reader(io.StringIO(buf.getvalue(), newline=""), delimiter=delimiter)
    next(reader)
    expected, end_line = [], 1
    for fields in reader:
        start, end_line = end_line + 1, reader.line_num
        if fields:
            expected.append((start, fields))
    got = list(CsvSource(path, max_row_lines=1_000).rows())
    assert got == expected
