"""'valider_fiche' names every unmet field of the client record, per client kind, all together."""
from __future__ import annotations

from dataclasses import replace

import pytest

from states.commands import FireEvent
from states.decide import decide
from states.errors import GuardFailed
from states.guards import fiche_complete
from states.records import ClientKind
from tests.unit.domain_builders import CLIENTS, ENTREPRISE, PARTICULIER, PROFESSIONNEL, case

BASE = ["address", "postal_code", "city", "phone", "email", "marital_status", "professional_status"]
PRO = BASE + ["siret", "naf_code", "activity", "turnover_eur", "headcount"]
REQUIRED = {ClientKind.PARTICULIER: BASE, ClientKind.PROFESSIONNEL: PRO,
            ClientKind.ENTREPRISE: PRO + ["insurance_contact"]}
KIND_FIELD = [(kind, f) for kind, fields in REQUIRED.items() for f in fields]


def unmet_codes(client, confirmed=True) -> list[str]:
    return [u.code for u in fiche_complete(case("joint_rdv", client, assignment_confirmed=confirmed), {})]


@pytest.mark.parametrize("kind", list(ClientKind))
def test_guards__fiche_valid_client_of_each_kind_passes(kind):
    assert unmet_codes(CLIENTS[kind]) == []


@pytest.mark.parametrize(("kind", "field"), KIND_FIELD, ids=[f"{k.value}-{f}" for k, f in KIND_FIELD])
def test_guards__fiche_each_missing_required_field_is_named(kind, field):
    unmet = fiche_complete(case("joint_rdv", replace(CLIENTS[kind], **{field: None}), assignment_confirmed=True), {})
    assert [u.code for u in unmet] == [field]
    assert "manquant" in unmet[0].message


@pytest.mark.parametrize(("kind", "field"), [(ClientKind.PARTICULIER, f) for f in PRO[len(BASE):]]
                         + [(ClientKind.PROFESSIONNEL, "insurance_contact")])
def test_guards__fiche_fields_of_richer_kinds_are_not_required_of_simpler_ones(kind, field):
    assert unmet_codes(replace(CLIENTS[kind], **{field: None})) == []


@pytest.mark.parametrize("kind", list(ClientKind))
def test_guards__fiche_all_unmet_fields_are_returned_together_with_the_assignment(kind):
    empty = replace(CLIENTS[kind], **{f: None for f in REQUIRED[kind]})
    assert unmet_codes(empty, confirmed=False) == REQUIRED[kind] + ["assignment"]


def test_guards__fiche_unconfirmed_agency_and_advisor_is_named():
    unmet = fiche_complete(case("joint_rdv", PARTICULIER, assignment_confirmed=False), {})
    assert [(u.code, u.message) for u in unmet] == [("assignment", "agence et chargé de clientèle à confirmer")]


@pytest.mark.parametrize("kind", [ClientKind.PROFESSIONNEL, ClientKind.ENTREPRISE])
def test_guards__fiche_bad_siret_checksum_is_named(kind):
    unmet = fiche_complete(case("joint_rdv", replace(CLIENTS[kind], siret="73282932000075"),
                                assignment_confirmed=True), {})
    assert [u.code for u in unmet] == ["siret"]
    assert "SIRET invalide" in unmet[0].message


def test_guards__fiche_la_poste_siret_exception_is_valid():
    assert unmet_codes(replace(PROFESSIONNEL, siret="35600000049837")) == []


def test_guards__fiche_reunion_mobile_is_valid_only_with_a_974_postal_code():
    in_metropole = replace(PARTICULIER, phone="0692123456", postal_code="13007")
    in_reunion = replace(PARTICULIER, phone="0692123456", postal_code="97400", city="Saint-Denis")
    assert unmet_codes(in_metropole) == ["phone"]
    assert unmet_codes(in_reunion) == []


def test_guards__fiche_unallocated_07_0x_number_is_named():
    assert unmet_codes(replace(PARTICULIER, phone="07 01 23 45 67")) == ["phone"]


def test_guards__fiche_naf_without_dot_is_accepted_as_rev2_code():
    assert unmet_codes(replace(ENTREPRISE, naf_code="6201Z")) == []
    assert unmet_codes(replace(ENTREPRISE, naf_code="620Z")) == ["naf_code"]


@pytest.mark.parametrize("email", ["marie.dupont@", "marie dupont@example.fr", "pas-un-email"])
def test_guards__fiche_bad_email_is_named(email):
    unmet = fiche_complete(case("joint_rdv", replace(PARTICULIER, email=email), assignment_confirmed=True), {})
    assert [u.code for u in unmet] == ["email"]
    assert unmet[0].message.startswith("email invalide")


def test_guards__fiche_bad_postal_code_and_negative_turnover_are_named():
    client = replace(PROFESSIONNEL, postal_code="1300", turnover_eur=-5)
    assert unmet_codes(client) == ["postal_code", "turnover_eur"]


def test_guards__fiche_refusal_through_decide_carries_every_unmet_field(now):
    client = replace(ENTREPRISE, siret="73282932000075", phone="0701234567", email="x@", insurance_contact=" ")
    with pytest.raises(GuardFailed) as refused:
        decide(case("joint_rdv", client, assignment_confirmed=False), FireEvent("valider_fiche"), now)
    assert [u.code for u in refused.value.unmet] == ["phone", "email", "siret", "insurance_contact", "assignment"]
    assert refused.value.event == "valider_fiche"
