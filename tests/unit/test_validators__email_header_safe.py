"""Issue 9, hole 1: an email that cannot stand in a mail header is refused by the one email
validator (the fiche checklist shows it "to correct", CorrectClient refuses it), even where
email-validator alone accepts it (it is given the value without its surrounding whitespace)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from states.commands import CorrectClient
from states.decide import decide
from states.errors import InvalidChange
from states.fiche import checklist
from states.validators import sendable_email_address, validate_email_address
from tests.unit.domain_builders import PARTICULIER, case

# Each of these passed before: email-validator saw "marie@example.fr" once the ends were stripped.
HEADER_UNSAFE = ["marie@example.fr\r\n", "marie@example.fr\n", "\r\nmarie@example.fr", "marie@example.fr\r",
                 "marie@example.fr\t", "marie@example.fr\x0b", "marie@example.fr\x0c", "marie@example.fr\x1f",
                 "marie@example.fr\x85", "\u2028marie@example.fr", "marie@example.fr\u2029"]
NOT_ASCII_BEFORE_AT = ["josé@example.fr", "Mañana@example.fr"]
ALREADY_REFUSED = ["marie@example.fr\r\nBcc: x@evil.example", "a@b.fr, c@d.fr", "<script>@x.fr", "a\u2028@b.fr"]


@pytest.mark.parametrize("raw", HEADER_UNSAFE + NOT_ASCII_BEFORE_AT + ALREADY_REFUSED)
def test_validators__an_email_that_cannot_be_a_header_is_refused(raw):
    value, reason = validate_email_address(raw)
    assert value is None and reason.startswith("email invalide")
    assert sendable_email_address(raw) == (None, reason)


@pytest.mark.parametrize("raw", HEADER_UNSAFE + NOT_ASCII_BEFORE_AT)
def test_validators__the_checklist_shows_it_to_correct(raw):
    [item] = [i for i in checklist(replace(PARTICULIER, email=raw), True) if i.field == "email"]
    assert not item.ok and item.reason.startswith("email invalide")


@pytest.mark.parametrize("raw", HEADER_UNSAFE + NOT_ASCII_BEFORE_AT + ALREADY_REFUSED)
def test_validators__correct_client_refuses_it(raw, now):
    with pytest.raises(InvalidChange) as refused:
        decide(case(), CorrectClient({"email": raw}), now)
    assert set(refused.value.errors) == {"email"} and refused.value.errors["email"].startswith("email invalide")


@pytest.mark.parametrize(("raw", "stored", "sent"), [
    ("marie.dupont@example.fr", "marie.dupont@example.fr", "marie.dupont@example.fr"),
    ("  Marie.Dupont@Example.FR  ", "Marie.Dupont@example.fr", "Marie.Dupont@example.fr"),  # spaces: trimmed
    ("marie@café.fr", "marie@café.fr", "marie@xn--caf-dma.fr"),  # an accented domain goes out in IDNA
])
def test_validators__a_good_address_is_kept_and_sendable(raw, stored, sent):
    assert validate_email_address(raw) == (stored, None)
    assert sendable_email_address(raw) == (sent, None)


@given(head=st.text(max_size=20), tail=st.text(max_size=20), brk=st.sampled_from(["\r", "\n", "\r\n", "\x00", "\x85"]))
def test_validators__no_line_break_ever_passes(head, tail, brk):
    raw = f"{head}marie@example.fr{brk}{tail}"
    assert validate_email_address(raw)[0] is None and sendable_email_address(raw)[0] is None
