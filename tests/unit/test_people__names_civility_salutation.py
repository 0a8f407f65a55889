"""How people are named and addressed (states.people): civility, salutation, display names, and
the split of a CRM's full name into first and last name."""
from __future__ import annotations

import pytest

from states.people import (
    Civility, addressed_name, advisor_display_name, client_display_name, parse_civility, postal_name, salutation,
    split_full_name,
)


@pytest.mark.parametrize("raw, expected", [
    ("M.", Civility.M), ("m", Civility.M), ("Monsieur", Civility.M), ("MR", Civility.M),
    ("Mme", Civility.MME), ("madame", Civility.MME), ("Mlle", Civility.MME), ("Mademoiselle", Civility.MME),
    ("", None), ("  ", None), (None, None),
])
def test_people__civility_is_read_in_its_usual_spellings(raw, expected):
    assert parse_civility(raw) == (expected, None)


def test_people__an_unknown_civility_is_refused_with_its_reason():
    value, reason = parse_civility("Docteur")
    assert value is None and "civilité inconnue" in reason


@pytest.mark.parametrize("civility, expected", [("Mme", "Madame"), ("M.", "Monsieur"), (None, "Madame, Monsieur"),
                                                ("", "Madame, Monsieur"), ("??", "Madame, Monsieur")])
def test_people__salutation_follows_the_civility_and_is_neutral_only_when_unknown(civility, expected):
    assert salutation(civility) == expected


def test_people__addressed_and_postal_names():
    assert addressed_name("Mme", "Marie", "Durand") == "Madame Durand"
    assert addressed_name("M.", None, "Durand") == "Monsieur Durand"
    assert addressed_name(None, "Marie", "Durand") == "Marie Durand"  # never a guessed civility
    assert postal_name("Mme", "Marie", "Durand") == "Madame Marie Durand"
    assert postal_name(None, "Marie", "Durand") == "Marie Durand"


def test_people__client_display_name_is_the_company_for_an_entreprise_else_the_person():
    assert client_display_name("entreprise", "Paul", "Roux", "Logiciels du Sud SAS", "C1") == "Logiciels du Sud SAS"
    assert client_display_name("professionnel", "Paul", "Roux", "Roux Plomberie", "C1") == "Paul Roux"
    assert client_display_name("particulier", None, None, None, "C1") == "C1"
    assert client_display_name("particulier", None, None, "Roux Plomberie", "C1") == "Roux Plomberie"


@pytest.mark.parametrize("full, expected", [
    ("Marie Dupont", ("Marie", "Dupont")),
    ("Jean de La Fontaine", ("Jean", "de La Fontaine")),
    ("DUPONT Marie", ("Marie", "DUPONT")),  # the form's order: last name in capitals first
    ("LE GALL Anne-Sophie", ("Anne-Sophie", "LE GALL")),
    ("MARIE DUPONT", ("MARIE", "DUPONT")),  # all capitals: the usual order
    ("Dupont", (None, "Dupont")),
    ("  Marie   Dupont ", ("Marie", "Dupont")),
    ("", (None, None)),
])
def test_people__a_crm_full_name_splits_into_first_and_last_name(full, expected):
    assert split_full_name(full) == expected


def test_people__advisor_display_name_prefers_first_and_last_name():
    assert advisor_display_name("Marie", "Dupont", "DUPONT Marie") == "Marie Dupont"
    assert advisor_display_name(None, None, "Marie Dupont") == "Marie Dupont"
