"""Documents per risk: product names are matched on whole words, case and accents folded.

An unknown product asks only for what every insured person needs (the client kind's documents:
CNI for a person) and is reported as "produit non reconnu" for the agency to map.
"""
from __future__ import annotations

import pytest

from states import requirements
from states.records import ClientKind, ContractRecord, Family
from tests.unit.domain_builders import contract


def docs(product: str, family: Family = Family.IARD, kind: ClientKind = ClientKind.PARTICULIER) -> list[str]:
    return [code for code, what in requirements.required_codes(contract("K1", family, product), kind)
            if what == "document"]


def test_requirements__autonomy_dependency_cover_asks_for_no_carte_grise():
    # "autonomie" starts with "auto": a substring match asked for a carte grise.
    codes = docs("Garantie autonomie dépendance", Family.PREVOYANCE)
    assert "carte_grise" not in codes and "permis" not in codes
    assert codes == ["questionnaire_sante", "cni"]


def test_requirements__legal_protection_asks_for_no_origin_of_funds():
    # "Super " contains "per ": a substring match took it for a retirement plan.
    codes = docs("Super Protection Juridique")
    assert "origine_fonds" not in codes and "justificatif_domicile" not in codes
    assert codes == ["cni"]
    assert requirements.product_match("Super Protection Juridique").known


@pytest.mark.parametrize("product,risks", [
    ("Auto", ["auto"]), ("AUTO", ["auto"]), ("Assurance auto jeune conducteur", ["auto"]),
    ("Véhicule utilitaire", ["auto"]), ("Flotte automobile", ["auto"]), ("Moto", ["auto"]),
    ("Multirisque habitation", ["habitation"]), ("MRH", ["habitation"]),
    ("Propriétaire non occupant", ["habitation"]),
    ("Santé individuelle", ["sante"]), ("SANTE TNS", ["sante"]), ("Complémentaire santé collective", ["sante"]),
    ("Mutuelle", ["sante"]),
    ("Prévoyance individuelle", ["prevoyance"]), ("Assurance obsèques", ["prevoyance"]),
    ("Assurance emprunteur", ["prevoyance"]), ("Garantie des accidents de la vie", ["prevoyance"]),
    ("Assurance vie", ["epargne"]), ("Assurance-vie Allianz", ["epargne"]), ("Plan d'épargne retraite", ["epargne"]),
    ("PER individuel", ["epargne"]), ("Épargne salariale", ["epargne"]), ("Contrat de capitalisation", ["epargne"]),
    ("RC Pro", []), ("Multirisque professionnelle", []), ("Protection juridique", []),
])
def test_requirements__known_products_and_their_risks(product, risks):
    m = requirements.product_match(product)
    assert m.known and list(m.risks) == risks


@pytest.mark.parametrize("product", ["Autonomie", "Superbe", "Perle rare", "Vieillesse", "Automatisme"])
def test_requirements__a_word_that_only_starts_like_a_product_is_not_that_product(product):
    assert not requirements.product_match(product).known


def test_requirements__unknown_product_asks_only_what_every_insured_person_needs():
    m = requirements.product_match("Assurance chien et chat")
    assert not m.known and m.risks == () and m.label == "produit non reconnu"
    assert docs("Assurance chien et chat", Family.SANTE) == ["cni"]  # the family alone is no risk
    assert docs("Assurance chien et chat", kind=ClientKind.PROFESSIONNEL) == ["cni", "kbis_ou_insee"]
    k = ContractRecord("K9", Family.IARD, "Assurance chien et chat", contract().effective_date)
    assert [i.code for i in requirements.checklist(k, ClientKind.PARTICULIER)] == ["dp", "devis", "cni"]


def test_requirements__folding_ignores_case_accents_and_punctuation():
    assert requirements.fold_words("  Complémentaire-SANTÉ, l'œuvre ") == ("complementaire", "sante", "l", "oeuvre")
    assert requirements.product_match("complementaire   SANTE").risks == ("sante",)


def test_requirements__the_longest_product_name_wins_over_a_shorter_one_inside_it():
    # "vie" alone is not a product, but "assurance vie" inside "garantie des accidents de la vie" must not
    # be found either: the words are not adjacent. And "auto" inside "auto-entrepreneur" is no vehicle.
    assert requirements.product_match("RC Pro auto-entrepreneur").risks == ()
    assert requirements.product_match("Garantie des accidents de la vie").risks == ("prevoyance",)
