"""A new contract joining an open case: part of contrats finalisés before that step, a pièces action after."""
from __future__ import annotations

from datetime import date

import pytest

from states.commands import JoinContracts
from states.decide import decide
from states.effects import Insert, Row
from states.errors import InvalidChange
from states.guards import contracts_complete
from states.records import ActionKind, Family, RequirementStatus
from tests.unit.domain_builders import case, contract

DUE = date(2026, 4, 8)


def on_case(state: str, **kw):
    """A case holding K1, as the write path loads it for a join (its contract ids)."""
    return case(state, contract_ids=("K1",), **kw)

NEW = contract("K2", Family.EPARGNE, "Assurance vie", dp=RequirementStatus.RECEIVED)


@pytest.mark.parametrize("state", ["a_contacter", "joint_rdv", "fiche_validee", "email_envoye", "courrier_envoye"])
def test_joins__before_contrats_finalises_the_contract_joins_and_counts_toward_the_step(state, now):
    fx = decide(on_case(state), JoinContracts((NEW,), DUE), now)
    assert fx.action == "rattacher_contrats"
    assert fx.inserts == [Insert(Row.CASE_CONTRACT, {"contract_id": "K2"})]
    assert fx.changes == {"contracts": [["K1"], ["K1", "K2"]]}
    assert "contrats finalisés" in fx.reason and not fx.case
    # Once linked, the step's guard names the new contract's missing pieces with the others'.
    joined = case(state, contracts=(contract(), NEW))
    codes = [u.code for u in contracts_complete(joined, {})]
    assert "K2.origine_fonds" in codes and "K2.devis" in codes and "K2.dp" not in codes


@pytest.mark.parametrize("state", ["contrats_finalises", "bilan_fait", "actions_planifiees"])
def test_joins__after_contrats_finalises_what_is_missing_becomes_a_pieces_action(state, now):
    fx = decide(on_case(state, assigned_advisor_id=1), JoinContracts((NEW,), DUE), now)
    [link, action] = fx.inserts
    assert link == Insert(Row.CASE_CONTRACT, {"contract_id": "K2"})
    assert action.row is Row.ACTION
    v = action.values
    assert (v["kind"], v["owner_id"], v["due_date"], v["status"]) == (ActionKind.PIECES.value, 1, DUE, "open")
    assert v["label"].startswith("Pièces à obtenir : Assurance vie (K2) : ")
    for label in ("Devis / projet signé", "Carte nationale d'identité", "Justificatif d'origine des fonds"):
        assert label in v["label"]
    assert "Dispositions particulières" not in v["label"]  # received already
    assert fx.changes["action"][1]["missing"] == ["K2.devis", "K2.cni", "K2.justificatif_domicile",
                                                  "K2.origine_fonds"]
    assert "state" not in fx.case  # the step is not reopened


def test_joins__after_the_step_a_complete_contract_leaves_no_action(now):
    done = contract("K3", Family.IARD, "Protection juridique", dp=RequirementStatus.VALIDATED,
                    devis=RequirementStatus.VALIDATED, cni=RequirementStatus.WAIVED)
    fx = decide(on_case("bilan_fait"), JoinContracts((done,), DUE), now)
    assert [i.row for i in fx.inserts] == [Row.CASE_CONTRACT] and "rien ne manque" in fx.reason


def test_joins__closed_case_contract_already_there_or_nothing_is_refused(now):
    with pytest.raises(InvalidChange):
        decide(on_case("cloture"), JoinContracts((NEW,), DUE), now)
    with pytest.raises(InvalidChange, match="déjà dans ce dossier"):
        decide(on_case("a_contacter"), JoinContracts((contract(),), DUE), now)
    with pytest.raises(InvalidChange):
        decide(on_case("a_contacter"), JoinContracts((), DUE), now)
    with pytest.raises(InvalidChange, match="deux fois"):
        decide(on_case("a_contacter"), JoinContracts((NEW, NEW), DUE), now)
