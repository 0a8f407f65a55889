"""'finaliser_contrats' needs, per contract, the signatures and the documents its risk requires."""
from __future__ import annotations

import pytest

from states.commands import FireEvent
from states.decide import decide
from states.errors import GuardFailed
from states.guards import contracts_complete
from states.records import ClientKind, Family, RequirementStatus
from tests.unit.domain_builders import CLIENTS, case, contract

SIGNATURES = ["dp", "devis"]
# (client kind, family, product) -> documents required, in display order.
RISKS = {
    "auto": (ClientKind.PARTICULIER, Family.IARD, "Auto", ["carte_grise", "permis", "releve_information", "cni"]),
    "habitation": (ClientKind.PARTICULIER, Family.IARD, "Multirisque habitation", ["bail_ou_titre", "cni"]),
    "sante": (ClientKind.PARTICULIER, Family.SANTE, "Complémentaire santé", ["attestation_droits", "cni"]),
    "prevoyance": (ClientKind.PARTICULIER, Family.PREVOYANCE, "Garantie des accidents de la vie",
                   ["questionnaire_sante", "cni"]),
    "epargne": (ClientKind.PARTICULIER, Family.EPARGNE, "Assurance vie Allianz",
                ["cni", "justificatif_domicile", "origine_fonds"]),
    "professionnel": (ClientKind.PROFESSIONNEL, Family.IARD, "Multirisque professionnelle",
                      ["cni", "kbis_ou_insee"]),
    "entreprise": (ClientKind.ENTREPRISE, Family.IARD, "Flotte automobile",
                   ["carte_grise", "permis", "releve_information", "kbis_ou_insee"]),
}


def unmet_codes(kind, *contracts) -> list[str]:
    return [u.code for u in contracts_complete(case("fiche_validee", CLIENTS[kind], contracts=contracts), {})]


@pytest.mark.parametrize("risk", list(RISKS))
def test_guards__contracts_nothing_recorded_names_every_signature_and_document_of_the_risk(risk):
    kind, family, product, docs = RISKS[risk]
    assert unmet_codes(kind, contract("K1", family, product)) == [f"K1.{c}" for c in SIGNATURES + docs]


@pytest.mark.parametrize("status", [RequirementStatus.RECEIVED, RequirementStatus.VALIDATED,
                                    RequirementStatus.WAIVED])
@pytest.mark.parametrize("risk", list(RISKS))
def test_guards__contracts_received_validated_or_waived_satisfy(risk, status):
    kind, family, product, docs = RISKS[risk]
    k = contract("K1", family, product, **{c: status for c in SIGNATURES + docs})
    assert unmet_codes(kind, k) == []


@pytest.mark.parametrize("risk", list(RISKS))
def test_guards__contracts_a_document_recorded_as_missing_is_still_named(risk):
    kind, family, product, docs = RISKS[risk]
    statuses = {c: RequirementStatus.VALIDATED for c in SIGNATURES + docs}
    statuses[docs[0]] = RequirementStatus.MISSING
    assert unmet_codes(kind, contract("K1", family, product, **statuses)) == [f"K1.{docs[0]}"]


def test_guards__contracts_unmet_of_several_contracts_are_returned_together_with_french_labels(now):
    auto = contract("K1", Family.IARD, "Auto", dp=RequirementStatus.VALIDATED, devis=RequirementStatus.VALIDATED,
                    carte_grise=RequirementStatus.RECEIVED, permis=RequirementStatus.RECEIVED,
                    releve_information=RequirementStatus.RECEIVED)
    sante = contract("K2", Family.SANTE, "Mutuelle", dp=RequirementStatus.WAIVED, devis=RequirementStatus.RECEIVED,
                     attestation_droits=RequirementStatus.RECEIVED)
    with pytest.raises(GuardFailed) as refused:
        decide(case("fiche_validee", CLIENTS[ClientKind.PARTICULIER], contracts=(auto, sante)),
               FireEvent("finaliser_contrats"), now)
    assert [(u.code, u.message) for u in refused.value.unmet] == [
        ("K1.cni", "Carte nationale d'identité : manquant (contrat K1)"),
        ("K2.cni", "Carte nationale d'identité : manquant (contrat K2)"),
    ]


def test_guards__contracts_accident_of_life_cover_is_not_mistaken_for_savings():
    # "Garantie des accidents de la vie" is prévoyance: it must not ask for origin of funds.
    codes = unmet_codes(ClientKind.PARTICULIER, contract("K1", Family.PREVOYANCE, "Garantie des accidents de la vie"))
    assert "K1.origine_fonds" not in codes and "K1.questionnaire_sante" in codes
