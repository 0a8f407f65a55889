"""The bilan's decisions, pure: suggestions accepted or dismissed, outcomes and their links, the
inventory pre-fill, actions with owner and due date, devis status, the frozen record, the send."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from states.commands import (
    AcceptSuggestion, AddAction, AddInventoryLine, AddOutcome, CorrectClient, DevisRequest, DismissSuggestion,
    FireEvent, PrefillInventory, SendBilan, UpdateAction, UpdateOutcome,
)
from states.decide import decide
from states.effects import ACTOR, AUDIT_SEQ, Insert, Notify, Ref, Row, Update
from states.errors import InvalidChange
from states.records import (
    ActionKind, ActionRecord, ActionStatus, ClientDecision, ContractRecord, DecisionRecord, DevisStatus, Family,
    Held, InventoryRecord, OutcomeKind, OutcomeRecord, SuggestionDecision,
)
from tests.unit.domain_builders import PARTICULIER, case

DUE = date(2026, 4, 22)
AUTO = InventoryRecord(Family.IARD, "Auto", Held.CHEZ_NOUS, contract_id="K1", id=1)
SINGLE = replace(PARTICULIER, marital_status="célibataire", children_at_home=0, vehicles=1, housing_status="tenant")


def bilan_case(state: str = "contrats_finalises", **kw):
    defaults = dict(client=SINGLE, inventory=(AUTO,), outcomes=(), outcome_records=(), decisions=(), agency_id="corniche",
                    bilan_count=0)
    defaults.update(kw)
    return case(state, **defaults)


def errors(exc) -> dict:
    return exc.value.errors


# ---------------------------------------------------------------- suggestions
def test_bilan__accepting_a_suggestion_makes_a_need_and_its_devis_in_one_change(now):
    fx = decide(bilan_case(), AcceptSuggestion("habitation", client_decision=ClientDecision.TO_THINK,
                                               create_devis=DevisRequest(1, DUE)), now)
    action, outcome, decision = fx.inserts
    assert (action.row, action.ref, action.values["kind"], action.values["devis_status"]) == \
        (Row.ACTION, "action", "devis", "propose")
    assert action.values["owner_id"] == 1 and action.values["due_date"] == DUE
    assert action.values["label"] == "Devis Multirisque habitation"
    assert outcome.row is Row.OUTCOME and outcome.ref == "outcome"
    assert outcome.values["kind"] == "complementary_need" and outcome.values["suggestion_code"] == "habitation"
    assert outcome.values["action_id"] == Ref("action") and outcome.values["client_decision"] == "to_think"
    assert outcome.values["detail"].startswith("Multirisque habitation : Un véhicule")
    assert decision.row is Row.DECISION and decision.values == {
        "code": "habitation", "decision": "accepted", "reason": None, "outcome_id": Ref("outcome"),
        "action_id": Ref("action"), "at": now}
    assert fx.changes["suggestion.habitation"][1]["decision"] == "accepted"
    assert fx.changes["outcome"][1]["id"] == Ref("outcome") and "after_bilan" not in fx.changes


def test_bilan__accepting_without_a_devis_only_records_the_need(now):
    fx = decide(bilan_case(), AcceptSuggestion("sante", detail="Mutuelle pour la famille"), now)
    assert [i.row for i in fx.inserts] == [Row.OUTCOME, Row.DECISION]
    assert fx.inserts[0].values["detail"] == "Mutuelle pour la famille" and fx.inserts[0].values["action_id"] is None


@pytest.mark.parametrize("owner,message", [(2, "n'est plus actif"), (3, "appartient à l'agence rouviere"),
                                           (99, "inconnu")])
def test_bilan__the_devis_owner_is_an_active_advisor_of_the_cases_agency(owner, message, now):
    with pytest.raises(InvalidChange) as refused:
        decide(bilan_case(), AcceptSuggestion("habitation", create_devis=DevisRequest(owner, DUE)), now)
    assert message in errors(refused)["create_devis.owner_id"]


def test_bilan__a_suggestion_is_accepted_once_and_a_dismissed_one_may_be_taken_up(now):
    accepted = (DecisionRecord("habitation", SuggestionDecision.ACCEPTED, None, 7, None),)
    with pytest.raises(InvalidChange) as refused:
        decide(bilan_case(decisions=accepted), AcceptSuggestion("habitation"), now)
    assert "déjà retenue" in errors(refused)["code"]
    dismissed = (DecisionRecord("habitation", SuggestionDecision.DISMISSED, "plus tard"),)
    fx = decide(bilan_case(decisions=dismissed), AcceptSuggestion("habitation"), now)
    assert [i.row for i in fx.inserts] == [Row.OUTCOME]
    assert fx.updates == [Update(Row.DECISION, "habitation", {"decision": "accepted", "reason": None,
                                                              "outcome_id": Ref("outcome"), "action_id": None,
                                                              "at": now})]
    assert fx.changes["suggestion.habitation"][0] == {"decision": "dismissed", "reason": "plus tard"}


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_bilan__dismissing_needs_a_reason(reason, now):
    with pytest.raises(InvalidChange) as refused:
        decide(bilan_case(), DismissSuggestion("habitation", reason), now)
    assert "motif" in errors(refused)["reason"]


def test_bilan__dismissing_records_the_reason_and_cannot_undo_an_acceptance(now):
    fx = decide(bilan_case(), DismissSuggestion("sante", "mutuelle obligatoire de l'employeur"), now)
    [row] = fx.inserts
    assert row == Insert(Row.DECISION, {"code": "sante", "decision": "dismissed",
                                        "reason": "mutuelle obligatoire de l'employeur", "outcome_id": None,
                                        "action_id": None, "at": now})
    assert fx.reason == "mutuelle obligatoire de l'employeur"
    accepted = (DecisionRecord("sante", SuggestionDecision.ACCEPTED, None, 3, None),)
    with pytest.raises(InvalidChange, match="retenue"):
        decide(bilan_case(decisions=accepted), DismissSuggestion("sante", "x"), now)


def test_bilan__an_unknown_or_covered_suggestion_is_refused(now):
    with pytest.raises(InvalidChange, match="inconnue"):
        decide(bilan_case(), AcceptSuggestion("yacht"), now)
    covered = bilan_case(inventory=(AUTO, InventoryRecord(Family.IARD, "MRH", Held.AILLEURS)))
    with pytest.raises(InvalidChange, match="ne s'applique plus"):
        decide(covered, AcceptSuggestion("habitation"), now)


def test_bilan__a_need_added_with_a_suggestion_code_is_that_suggestion_accepted(now):
    fx = decide(bilan_case(), AddOutcome(OutcomeKind.COMPLEMENTARY_NEED, suggestion_code="habitation"), now)
    assert fx.action == "accept_suggestion" and [i.row for i in fx.inserts] == [Row.OUTCOME, Row.DECISION]


# ---------------------------------------------------------------- outcomes
def test_bilan__a_technical_question_carries_its_answer(now):
    with pytest.raises(InvalidChange) as refused:
        decide(bilan_case(), AddOutcome(OutcomeKind.TECHNICAL_QUESTION, "franchise bris de glace ?"), now)
    assert "réponse" in errors(refused)["answer"]
    fx = decide(bilan_case(), AddOutcome(OutcomeKind.TECHNICAL_QUESTION, "franchise ?", answer="aucune"), now)
    assert fx.inserts[0].values["answer"] == "aucune"


def test_bilan__a_need_carries_a_detail_or_a_suggestion(now):
    with pytest.raises(InvalidChange) as refused:
        decide(bilan_case(), AddOutcome(OutcomeKind.COMPLEMENTARY_NEED, "  "), now)
    assert "détail" in errors(refused)["detail"]


def test_bilan__links_must_fit_the_outcome(now):
    actions = (ActionRecord(5, ActionKind.DEVIS, 1, DUE), ActionRecord(6, ActionKind.AVENANT, 1, DUE))
    c = bilan_case(actions=actions, correction_seqs=(4,), topics=())
    with pytest.raises(InvalidChange, match="avenant"):
        decide(c, AddOutcome(OutcomeKind.SITUATION_CHANGE, "déménagement", action_id=5), now)
    with pytest.raises(InvalidChange, match="correction"):
        decide(c, AddOutcome(OutcomeKind.SITUATION_CHANGE, "déménagement", correction_seq=3), now)
    with pytest.raises(InvalidChange, match="inconnue"):
        decide(c, AddOutcome(OutcomeKind.COMPLEMENTARY_NEED, "MRH", action_id=99), now)
    fx = decide(c, AddOutcome(OutcomeKind.SITUATION_CHANGE, "déménagement", ClientDecision.ACCEPTED, action_id=6,
                              correction_seq=4), now)
    assert fx.inserts[0].values["action_id"] == 6 and fx.inserts[0].values["correction_seq"] == 4


def test_bilan__updating_an_outcome_records_the_clients_decision_and_keeps_the_link_in_step(now):
    need = OutcomeRecord(3, OutcomeKind.COMPLEMENTARY_NEED, "MRH", "habitation")
    decisions = (DecisionRecord("habitation", SuggestionDecision.ACCEPTED, None, 3, None),)
    c = bilan_case(outcomes=(need.kind,), outcome_records=(need,), decisions=decisions,
                   actions=(ActionRecord(8, ActionKind.DEVIS, 1, DUE),))
    fx = decide(c, UpdateOutcome(3, ClientDecision.REFUSED, action_id=8), now)
    assert fx.changes == {"outcome.3.client_decision": [None, "refused"], "outcome.3.action_id": [None, 8]}
    assert fx.updates == [Update(Row.OUTCOME, 3, {"client_decision": "refused", "action_id": 8}),
                          Update(Row.DECISION, "habitation", {"action_id": 8})]
    with pytest.raises(InvalidChange, match="rien"):
        decide(c, UpdateOutcome(3), now)


# ---------------------------------------------------------------- after the bilan
@pytest.mark.parametrize("cmd", [AddInventoryLine(Family.SANTE, "Mutuelle", Held.AILLEURS),
                                 AddOutcome(OutcomeKind.SATISFIED), DismissSuggestion("sante", "plus tard"),
                                 CorrectClient({"children_at_home": 2})])
@pytest.mark.parametrize("state,after", [("contrats_finalises", False), ("bilan_fait", True),
                                         ("actions_planifiees", True)])
def test_bilan__changes_after_the_bilan_are_audited_as_such(cmd, state, after, now):
    fx = decide(bilan_case(state), cmd, now)
    assert (fx.changes.get("after_bilan") == [None, True]) is after


# ---------------------------------------------------------------- inventory pre-fill
def test_bilan__finalising_contracts_opens_the_inventory_with_every_active_contract_once(now):
    contracts = (ContractRecord("K1", Family.IARD, "Auto", date(2026, 1, 15)),
                 ContractRecord("K2", Family.SANTE, "Santé individuelle", date(2025, 3, 1)))
    # No contract of the case left to finalise (contracts=()): the guard passes.
    c = bilan_case("fiche_validee", inventory=(AUTO,), client_contracts=contracts, contracts=())
    fx = decide(c, FireEvent("finaliser_contrats"), now)
    assert fx.case["state"] == "contrats_finalises"
    assert fx.inserts == [Insert(Row.INVENTORY, {"family": "Santé", "product": "Santé individuelle",
                                                 "held": "chez_nous", "insurer": None, "renewal_date": None,
                                                 "contract_id": "K2", "created_at": now})]
    assert fx.changes["inventory_prefill"] == [None, [{"contract_id": "K2", "family": "Santé",
                                                       "product": "Santé individuelle"}]]
    again = replace(c, inventory=(AUTO, InventoryRecord(Family.SANTE, "Santé individuelle", Held.CHEZ_NOUS,
                                                        contract_id="K2")))
    with pytest.raises(InvalidChange, match="déjà à jour"):
        decide(again, PrefillInventory(), now)


# ---------------------------------------------------------------- actions
def test_bilan__an_action_needs_an_owner_of_the_agency_and_a_due_date(now):
    c = bilan_case("bilan_fait")
    with pytest.raises(InvalidChange, match="obligatoire"):
        decide(c, AddAction(ActionKind.RDV, None, DUE), now)
    with pytest.raises(InvalidChange, match="échéance"):
        decide(c, AddAction(ActionKind.RDV, 1, None), now)
    with pytest.raises(InvalidChange, match="rouviere"):
        decide(c, AddAction(ActionKind.RDV, 3, DUE), now)
    with pytest.raises(InvalidChange, match="plus actif"):
        decide(c, AddAction(ActionKind.RDV, 2, DUE), now)
    fx = decide(c, AddAction(ActionKind.DEVIS, 1, DUE, "Devis MRH"), now)
    assert fx.inserts[0].values["devis_status"] == "propose" and fx.inserts[0].ref == "action"
    assert "devis_status" not in decide(c, AddAction(ActionKind.AVENANT, 1, DUE), now).inserts[0].values


def test_bilan__an_action_answering_a_need_links_it(now):
    need = OutcomeRecord(3, OutcomeKind.COMPLEMENTARY_NEED, "MRH", "habitation")
    c = bilan_case("bilan_fait", outcomes=(need.kind,), outcome_records=(need,),
                   decisions=(DecisionRecord("habitation", SuggestionDecision.ACCEPTED, None, 3, None),))
    fx = decide(c, AddAction(ActionKind.DEVIS, 1, DUE, outcome_id=3), now)
    assert fx.updates == [Update(Row.OUTCOME, 3, {"action_id": Ref("action")}),
                          Update(Row.DECISION, "habitation", {"action_id": Ref("action")})]
    with pytest.raises(InvalidChange, match="ne répond pas"):
        decide(c, AddAction(ActionKind.AVENANT, 1, DUE, outcome_id=3), now)


def test_bilan__devis_status_is_for_devis_and_signed_finishes_the_action(now):
    actions = (ActionRecord(1, ActionKind.DEVIS, 1, DUE, devis_status=DevisStatus.ENVOYE),
               ActionRecord(2, ActionKind.RDV, 1, DUE))
    c = bilan_case("actions_planifiees", actions=actions)
    fx = decide(c, UpdateAction(1, devis_status=DevisStatus.SIGNE), now)
    assert fx.changes == {"action.1.status": ["open", "done"], "action.1.devis_status": ["envoye", "signe"]}
    assert fx.updates == [Update(Row.ACTION, 1, {"status": "done", "devis_status": "signe"})]
    with pytest.raises(InvalidChange, match="seul un devis"):
        decide(c, UpdateAction(2, devis_status=DevisStatus.ENVOYE), now)
    with pytest.raises(InvalidChange, match="rouviere"):
        decide(c, UpdateAction(2, owner_id=3), now)
    sent = decide(c, UpdateAction(1, devis_status=DevisStatus.REFUSE, status=ActionStatus.OPEN), now)
    assert sent.changes == {"action.1.devis_status": ["envoye", "refuse"]}  # the caller kept it open


# ---------------------------------------------------------------- the frozen record and its sending
def test_bilan__done_freezes_one_record_anchored_in_the_audit(now):
    need = OutcomeRecord(3, OutcomeKind.COMPLEMENTARY_NEED, "Multirisque habitation : ...", "habitation",
                         ClientDecision.ACCEPTED, action_id=8)
    c = bilan_case(nothing_elsewhere=True, outcomes=(need.kind,), outcome_records=(need,), bilan_count=0,
                   decisions=(DecisionRecord("habitation", SuggestionDecision.ACCEPTED, None, 3, 8),
                              DecisionRecord("sante", SuggestionDecision.DISMISSED, "mutuelle employeur")),
                   actions=(ActionRecord(8, ActionKind.DEVIS, 1, DUE, label="Devis MRH",
                                         devis_status=DevisStatus.PROPOSE),))
    fx = decide(c, FireEvent("terminer_bilan"), now)
    [record] = fx.inserts
    assert record.row is Row.BILAN_RECORD and record.values["seq"] == 1
    assert record.values["actor"] is ACTOR and record.values["audit_seq"] is AUDIT_SEQ
    content = record.values["content"]
    assert fx.changes["bilan"] == [None, content]
    assert fx.changes["bilan_record"] == [None, {"seq": 1, "sha256": record.values["content_sha256"]}]
    assert content["needs"][0]["client_decision"] == "accepted"
    assert content["needs"][0]["action"]["devis_status"] == "propose"
    advice = {a["code"]: a for a in content["advice"]}
    assert advice["habitation"]["decision"]["decision"] == "accepted"
    assert advice["habitation"]["client_decision"] == "accepted"
    assert advice["sante"]["decision"] == {"decision": "dismissed", "decision_label": "écartée",
                                           "reason": "mutuelle employeur", "outcome_id": None, "action_id": None,
                                           "at": None}
    assert content["inventory"]["chez_nous"][0]["contract_id"] == "K1"
    assert content["situation"]["housing"] == "tenant" and content["advisor"] == {"id": 1, "name": "Julie Martin"}
    second = decide(replace(c, bilan_count=1), FireEvent("terminer_bilan"), now)
    assert second.inserts[0].values["seq"] == 2  # a later bilan is a new record


def test_bilan__sending_needs_the_record_and_an_address_and_is_allowed_closed(now):
    c = bilan_case("cloture", bilan_count=1)
    fx = decide(c, SendBilan(1), now)
    assert fx.notifications == [Notify("bilan_email", {"bilan_seq": 1, "to": "marie.dupont@example.fr"})]
    assert fx.updates == [Update(Row.BILAN_RECORD, 1, {"sent_at": now, "sent_to": "marie.dupont@example.fr"})]
    other = decide(c, SendBilan(1, " Autre@Example.fr "), now)
    assert other.notifications[0].payload["to"] == "Autre@example.fr"
    with pytest.raises(InvalidChange, match="introuvable"):
        decide(c, SendBilan(2), now)
    with pytest.raises(InvalidChange, match="adresse"):
        decide(replace(c, client=replace(SINGLE, email=None)), SendBilan(1), now)
    with pytest.raises(InvalidChange, match="email invalide"):
        decide(c, SendBilan(1, "pas-un-email"), now)
