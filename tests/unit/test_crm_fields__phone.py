import random

import pytest

from states.validators import validate_phone
from store.crm_fields import normalise_client, normalise_phone


def _library(raw, postal):
    value, _ = validate_phone(raw, postal)
    return value or raw


def test_normalise_phone__fast_path_agrees_with_phonenumbers_on_many_numbers():
    rng = random.Random(7)
    postals = ["13007", "97400", "97110", "97200", "97300", "97600", "20000", "75011"]
    for _ in range(3000):
        digits = "0" + "".join(str(rng.randrange(10)) for _ in range(9))
        raw = rng.choice([digits, " ".join(digits[i:i + 2] for i in range(0, 10, 2)), ".".join(
            digits[i:i + 2] for i in range(0, 10, 2))])
        postal = rng.choice(postals)
        assert normalise_phone(raw, postal) == _library(raw, postal), (raw, postal)


@pytest.mark.parametrize("raw,postal,expected", [
    ("06 12 34 56 78", "13007", "+33612345678"), ("0692 12 34 56", "97400", "+262692123456"),
    ("0692 12 34 56", "13007", "0692 12 34 56"), ("07 01 23 45 67", "13007", "07 01 23 45 67"),
    ("+33 6 12 34 56 78", "13007", "+33612345678"), ("n/c", "13007", "n/c"), ("", "13007", ""),
])
def test_normalise_phone__valid_to_e164_invalid_as_given(raw, postal, expected):
    assert normalise_phone(raw, postal) == expected


def test_normalise_client__naf_normalised_with_its_nomenclature_or_kept():
    c = normalise_client({"phone": None, "postal_code": None, "naf_code": "6201z"})
    assert (c["naf_code"], c["naf_nomenclature"]) == ("62.01Z", "NAF2")
    c = normalise_client({"phone": None, "postal_code": None, "naf_code": "62-01"})
    assert (c["naf_code"], c["naf_nomenclature"]) == ("62-01", None)


def test_normalise_phone__a_remembered_answer_is_the_answer_of_its_region():
    # '0692 12 34 56' is valid in La Réunion only: remembered per region, never per text alone
    assert normalise_phone("0692.12.34.5", "13007") == "0692.12.34.5"
    assert normalise_phone("+262 692 12 34 56", "13007") == "+262692123456"
    assert normalise_phone("+262 692 12 34 56", "97400") == "+262692123456"
    assert normalise_phone("06 12 34", "97400") == normalise_phone("06 12 34", "13007") == "06 12 34"
    for _ in range(2):
        assert normalise_phone("0692 12 34 56", "13007") == "0692 12 34 56"
        assert normalise_phone("0692 12 34 56", "97400") == "+262692123456"
