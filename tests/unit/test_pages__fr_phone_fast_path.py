"""The pages' phone format: the fast path for French numbers gives exactly what phonenumbers gives."""
from __future__ import annotations

import phonenumbers
from hypothesis import given, strategies as st

from api.pages.common import fr_phone


def _phonenumbers(value: str) -> str:
    number = phonenumbers.parse(value, "FR")
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 33 else \
        phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


@given(st.sampled_from("12345679"), st.integers(0, 10**8 - 1))
def test_pages__fr_phone_fast_path_equals_phonenumbers(first, rest):
    value = f"+33{first}{rest:08d}"
    assert fr_phone(value) == _phonenumbers(value)


def test_pages__fr_phone_other_numbers_still_through_phonenumbers():
    assert fr_phone("+33612345678") == "06 12 34 56 78"
    assert fr_phone("+33800123456") == _phonenumbers("+33800123456")  # 08: grouped otherwise
    assert fr_phone("+262692123456") == _phonenumbers("+262692123456")
    assert fr_phone(None) == "—" and fr_phone("n/c") == "n/c"
