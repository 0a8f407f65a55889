from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.csv_source import COLUMNS
from store.import_rows import RowParser, RowRejected, client_values, parse_date, parse_decimal
from tests.import_csv import row

AGENCIES = {"corniche": "Corniche", "rouviere": "Rouvière"}


def parse(**overrides):
    r = row(**overrides)
    return RowParser(AGENCIES).parse(7, [r[c] for c in COLUMNS])


@pytest.mark.parametrize("raw,expected", [
    ("2024-02-29", date(2024, 2, 29)), ("29/02/2024", date(2024, 2, 29)), (" 15/01/2026 ", date(2026, 1, 15)),
    ("31/02/2024", None), ("2024-13-01", None), ("2023-02-29", None), ("15/01/26", None), ("demain", None),
])
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("1 234,56", Decimal("1234.56")), ("1234.56", Decimal("1234.56")), ("1.234,56", Decimal("1234.56")),
    ("612", Decimal("612")), ("1\u202f234,5 €", Decimal("1234.5")), ("abc", None), ("NaN", None),
    ("-12,5", Decimal("-12.5")), ("1e5", None), ("1.5e999999999", None), ("²", None), ("Infinity", None),
    ("9" * 21, None),
])
def test_parse_decimal(raw, expected):
    assert parse_decimal(raw) == expected


@pytest.mark.parametrize("overrides,column", [
    (dict(contract_id=" "), "contract_id"), (dict(client_id=""), "client_id"),
    (dict(client_kind="association"), "client_kind"), (dict(agency="Vieux-Port"), "agency"),
    (dict(family="Auto"), "family"), (dict(effective_date="31/02/2024"), "effective_date"),
    (dict(effective_date="2024-13-01"), "effective_date"), (dict(effective_date=""), "effective_date"),
    (dict(status="suspendu"), "status"), (dict(product=""), "product"), (dict(premium_eur="beaucoup"), "premium_eur"),
    (dict(client_id="C" * 65), "client_id"), (dict(postal_code="1" * 17), "postal_code"),
    (dict(premium_eur="-1"), "premium_eur"), (dict(effective_date="01/01/0001"), "effective_date"),
    (dict(effective_date="9999-12-31"), "effective_date"), (dict(product="x" * 201), "product"),
    (dict(activity="x" * 5_000), "activity"), (dict(status="x" * 33), "status"),
])
def test_parse__rows_that_cannot_be_stored_are_rejected_with_their_column(overrides, column):
    with pytest.raises(RowRejected) as exc:
        parse(**overrides)
    assert exc.value.column == column and exc.value.reason


def test_parse__codes_accept_any_case_and_accents():
    r = parse(agency="ROUVIERE", family="prevoyance", client_kind="Professionnel", status="Cancelled")
    assert (r.agency_id, r.contract["family"], r.kind, r.contract["status"]) == \
        ("rouviere", "Prévoyance", "professionnel", "cancelled")
    assert parse(family="épargne").contract["family"] == "Épargne"
    assert parse(family="SANTE").contract["family"] == "Santé"


def test_parse__defective_crm_fields_are_not_rejections():
    r = parse(siret="123", phone="n/c", email="", naf_code="ZZ", turnover_eur="beaucoup", headcount="?")
    values = client_values(r)
    assert values["siret"] == "123" and values["phone"] == "n/c" and values["email"] is None
    assert values["turnover_eur"] is None and values["headcount"] is None


def test_parse__hash_changes_with_the_values_and_only_with_them():
    assert parse().client_hash == parse().client_hash
    assert parse(city="Aubagne").client_hash != parse().client_hash
    assert parse(city="Aubagne").contract_hash == parse().contract_hash
    assert parse(premium_eur="1,00").contract_hash != parse().contract_hash
    assert parse(effective_date="15/01/2026").contract_hash == parse().contract_hash  # same date, other format


def test_parse__implausible_crm_numbers_are_stored_empty_not_rejected():
    values = client_values(parse(turnover_eur="-1 000", headcount="²"))
    assert values["turnover_eur"] is None and values["headcount"] is None
    assert client_values(parse(headcount="10 000 001"))["headcount"] is None
    assert client_values(parse(headcount="10 000 000"))["headcount"] == 10_000_000


def test_limits__every_column_and_its_limit_are_in_the_docs_table():
    import re
    from pathlib import Path

    from store.import_rows import LIMITS

    doc = (Path(__file__).parents[2] / "docs" / "import.md").read_text(encoding="utf-8")
    table = doc[doc.index("**Length limits**"):].split("\n\n")[1]
    documented = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for names, limit in zip(cells[0::3], cells[1::3]):
            for name in re.findall(r"`(\w+)`", names):
                documented[name] = int(limit)
    assert documented == LIMITS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=len(COLUMNS), max_size=len(COLUMNS)), st.text(max_size=8))
def test_hashes__the_fast_picks_hash_the_same_bytes_as_before(fields, extra):
    # The stored source_hash of every client and contract was made by _row_hash: a different
    # byte would make every row of an existing database look changed on the next import.
    from store.import_rows import _HASHED_CLIENT_I, _HASHED_CONTRACT_I, _row_hash, client_hash, contract_hash

    assert client_hash(fields, extra) == _row_hash(fields, _HASHED_CLIENT_I, extra)
    assert contract_hash(fields, "IARD", "2026-01-15", extra) == \
        _row_hash(fields, _HASHED_CONTRACT_I, f"IARD\x1f2026-01-15\x1f{extra}")


@pytest.mark.parametrize("raw", ["612", "879,86", "1234.5", "0", "0,1", "9999999999,99", "007", "12,30"])
def test_parse_decimal__the_usual_shapes_give_what_the_general_path_gives(raw, monkeypatch):
    import re

    from store import import_rows

    assert import_rows._USUAL.fullmatch(raw)
    fast = parse_decimal(raw)
    monkeypatch.setattr(import_rows, "_USUAL", re.compile(r"(?!)"))  # never matches: the general path
    general = parse_decimal(raw)
    assert fast == general and str(fast) == str(general)
