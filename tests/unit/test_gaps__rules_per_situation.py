"""The bilan's gap rules (states/data/gap_rules.toml) per situation: a gap when a rule holds,
"à demander" when it depends on an unknown field, nothing when the inventory (chez nous or
ailleurs) already covers it; covers matched on whole words, case and accents folded."""
from __future__ import annotations

from dataclasses import replace

import pytest

from states import gaps
from states.records import ClientKind, ClientRecord, Family, Held, InventoryRecord
from states.situation import Situation, normalise
from tests.unit.domain_builders import ENTREPRISE, PARTICULIER, PROFESSIONNEL


def line(product: str, family: Family = Family.IARD, held: Held = Held.AILLEURS) -> InventoryRecord:
    return InventoryRecord(family, product, held)


def run(client: ClientRecord, *inventory: InventoryRecord) -> dict[str, gaps.Suggestion]:
    situation = Situation.of(client, gaps.rules().readings)
    return {s.code: s for s in gaps.suggestions(situation, inventory)}


SINGLE = replace(PARTICULIER, marital_status="célibataire", children_at_home=0, vehicles=0, housing_status="hosted")
AUTO = line("Auto", held=Held.CHEZ_NOUS)


def test_gaps__auto_without_home_cover_suggests_habitation_with_its_reason():
    found = run(SINGLE, AUTO)
    assert found["habitation"].status is gaps.Status.GAP
    assert found["habitation"].family is Family.IARD and found["habitation"].product == "Multirisque habitation"
    assert found["habitation"].reason == "Un véhicule est assuré mais le logement ne l'est nulle part à notre connaissance."


@pytest.mark.parametrize("product,held", [("Multirisque Habitation", Held.AILLEURS), ("MRH", Held.CHEZ_NOUS),
                                          ("Assurance HABITATION étudiant", Held.AILLEURS),
                                          ("Propriétaire non occupant", Held.AILLEURS)])
def test_gaps__a_home_cover_held_anywhere_covers_habitation(product, held):
    assert "habitation" not in run(SINGLE, AUTO, line(product, held=held))


@pytest.mark.parametrize("product,cover", [("Garantie autonomie dépendance", "auto"), ("Autonomie", "auto"),
                                           ("Super Protection Juridique", "retraite"),
                                           ("Habitations", "habitation"), ("Assurance superpermis", "retraite")])
def test_gaps__covers_match_whole_words_only(product, cover):
    assert gaps.covered(cover, [line(product)]) is False


@pytest.mark.parametrize("product,cover", [("AUTO jeune conducteur", "auto"), ("Flotte automobile", "auto"),
                                           ("PER individuel", "retraite"), ("Plan d'épargne retraite", "retraite"),
                                           ("Complémentaire SANTÉ collective", "sante_collective"),
                                           ("RC Pro artisan", "rc_pro")])
def test_gaps__covers_fold_case_and_accents(product, cover):
    assert gaps.covered(cover, [line(product)]) is True


def test_gaps__a_family_cover_counts_elsewhere_too():
    found = run(replace(SINGLE, children_at_home=2), line("Contrat décès", Family.PREVOYANCE))
    assert "prevoyance" not in found
    assert run(replace(SINGLE, children_at_home=2))["prevoyance"].status is gaps.Status.GAP


def test_gaps__unknown_children_ask_never_silence():
    found = run(replace(SINGLE, children_at_home=None))
    assert found["prevoyance"].status is gaps.Status.ASK
    assert found["prevoyance"].questions == ("Combien d'enfants vivent au foyer ?",)
    assert found["epargne"].status is gaps.Status.ASK  # single: only the children may still call for it


@pytest.mark.parametrize("children,marital,expected", [
    (0, "célibataire", None), (2, "célibataire", gaps.Status.GAP), (0, "pacsé(e)", gaps.Status.GAP),
    (0, "Mariée", gaps.Status.GAP), (None, "concubinage", gaps.Status.GAP), (0, None, gaps.Status.ASK),
    (0, "divorcé(e)", None),
])
def test_gaps__savings_for_children_or_a_couple(children, marital, expected):
    found = run(replace(SINGLE, children_at_home=children, marital_status=marital))
    assert (found["epargne"].status if "epargne" in found else None) is expected


def test_gaps__particulier_always_gets_the_health_question_unless_covered():
    assert run(SINGLE)["sante"].status is gaps.Status.GAP
    assert "employeur" in run(SINGLE)["sante"].reason
    assert "sante" not in run(SINGLE, line("Mutuelle", Family.SANTE))
    assert "sante" not in run(replace(PROFESSIONNEL, professional_status="artisan"))


def test_gaps__tenant_or_owner_without_home_cover_and_unknown_housing_asks():
    assert run(replace(SINGLE, housing_status="tenant"))["habitation"].status is gaps.Status.GAP
    asked = run(replace(SINGLE, housing_status=None))["habitation"]
    assert asked.status is gaps.Status.ASK
    assert asked.questions == ("Le client est-il propriétaire, locataire ou hébergé ?",)
    assert "habitation" not in run(SINGLE)  # hosted, no vehicle, no auto


def test_gaps__a_declared_vehicle_insured_nowhere_suggests_auto():
    assert run(replace(SINGLE, vehicles=1))["auto"].status is gaps.Status.GAP
    assert "auto" not in run(replace(SINGLE, vehicles=1), line("Moto", held=Held.AILLEURS))
    assert run(replace(SINGLE, vehicles=None))["auto"].status is gaps.Status.ASK


def test_gaps__professional_needs_liability_and_premises_cover():
    pro = replace(PROFESSIONNEL, professional_status="artisan", children_at_home=0, vehicles=0,
                  marital_status="célibataire", housing_status="owner")
    found = run(pro, line("Multirisque habitation"))
    assert found["rc_pro"].status is gaps.Status.GAP and found["multirisque_pro"].status is gaps.Status.GAP
    assert "rc_pro" not in run(pro, line("Responsabilité civile professionnelle"))
    assert "multirisque_pro" not in run(pro, line("Multirisque professionnelle", held=Held.CHEZ_NOUS))


@pytest.mark.parametrize("status,expected", [("artisan", gaps.Status.GAP), ("Profession libérale", gaps.Status.GAP),
                                             ("gérant majoritaire", gaps.Status.GAP), ("gérant minoritaire", None),
                                             ("président de SAS", None), (None, gaps.Status.ASK),
                                             ("consultant", gaps.Status.ASK)])
def test_gaps__self_employed_professional_gets_tns_cover_and_retirement(status, expected):
    found = run(replace(PROFESSIONNEL, professional_status=status))
    for code in ("prevoyance_tns", "per"):
        assert (found[code].status if code in found else None) is expected
    if expected is gaps.Status.ASK:
        assert found["per"].questions[0].startswith("Le client est-il travailleur non salarié")


@pytest.mark.parametrize("headcount,expected", [(0, None), (12, gaps.Status.GAP), (None, gaps.Status.ASK)])
def test_gaps__company_with_employees_needs_group_health(headcount, expected):
    found = run(replace(ENTREPRISE, headcount=headcount))
    assert (found["sante_collective"].status if "sante_collective" in found else None) is expected


@pytest.mark.parametrize("cadres,expected", [(0, None), (2, gaps.Status.GAP), (None, gaps.Status.ASK)])
def test_gaps__company_with_cadres_needs_group_prevoyance(cadres, expected):
    found = run(replace(ENTREPRISE, cadres=cadres))
    assert (found["prevoyance_collective"].status if "prevoyance_collective" in found else None) is expected
    assert "prevoyance_collective" not in run(replace(ENTREPRISE, cadres=2), line("Prévoyance cadres", Family.PREVOYANCE))


def test_gaps__household_rules_are_not_for_a_company():
    found = run(replace(ENTREPRISE, children_at_home=None, cadres=0, headcount=0, vehicles=0), AUTO)
    assert not {"habitation", "prevoyance", "epargne", "sante"} & set(found)


def test_gaps__every_suggestion_of_the_file_is_reachable_and_has_a_stable_code():
    assert gaps.codes() == ("auto", "habitation", "prevoyance", "epargne", "sante", "rc_pro", "multirisque_pro",
                            "prevoyance_tns", "per", "sante_collective", "prevoyance_collective")
    assert gaps.rules().devis_due_in_days == 7


@pytest.mark.parametrize("broken,message", [
    ({"suggestion": {"x": {"family": "IARD", "product": "X", "cover": "nope"}}}, "unknown cover"),
    ({"cover": {"c": {"match": ["a"]}}, "suggestion": {"x": {"family": "IARD", "product": "X", "cover": "c"}},
      "rule": [{"suggest": "x", "reason": "r", "when": [{"field": "age", "op": ">", "value": 1}]}]}, "unknown field"),
    ({"cover": {"c": {"match": ["a"]}}, "suggestion": {"x": {"family": "IARD", "product": "X", "cover": "c"}},
      "rule": [{"suggest": "x", "when": []}]}, "reason missing"),
    ({"cover": {"c": {"match": ["a"]}}, "suggestion": {"x": {"family": "IARD", "product": "X", "cover": "c"}},
      "rule": [{"suggest": "x", "reason": "r", "when": [{"field": "kind", "op": "~", "value": 1}]}]}, "op"),
])
def test_gaps__a_broken_rules_file_fails_at_load_naming_the_problem(broken, message):
    with pytest.raises(ValueError, match=message):
        gaps.parse(broken)


@pytest.mark.parametrize("name,raw,expected", [
    ("housing_status", "Propriétaire", ("owner", None)), ("housing_status", "locataire", ("tenant", None)),
    ("housing_status", "hébergé à titre gratuit", ("hosted", None)), ("housing_status", None, (None, None)),
    ("children_at_home", 2, (2, None)), ("children_at_home", "3", (3, None)), ("vehicles", "", (None, None)),
    ("cadres", 0, (0, None)),
])
def test_situation__fields_normalise(name, raw, expected):
    assert normalise(name, raw) == expected


@pytest.mark.parametrize("name,raw", [("housing_status", "château"), ("children_at_home", -1),
                                      ("vehicles", True), ("cadres", "beaucoup"), ("children_at_home", 2.5),
                                      ("children_at_home", 31)])
def test_situation__invalid_values_are_refused_with_a_reason(name, raw):
    value, reason = normalise(name, raw)
    assert value is None and reason


def test_situation__employees_are_the_headcount_and_unknown_stays_unknown():
    s = Situation.of(replace(ENTREPRISE, headcount=None), gaps.rules().readings)
    assert s.employees is None and s.kind is ClientKind.ENTREPRISE and s.cadres is None
