"""Guards of the bilan, the next actions and the closings."""
from __future__ import annotations

from datetime import date

import pytest

from states.commands import FireEvent
from states.decide import decide
from states.errors import GuardFailed
from states.guards import (
    actions_finished, actions_planned, bilan_complete, reason_given, satisfied_without_action,
)
from states.records import (
    ActionKind, ActionRecord, ActionStatus, ClientDecision, Family, Held, InventoryRecord, OutcomeKind, OutcomeRecord,
)
from tests.unit.domain_builders import case

HERE = InventoryRecord(Family.IARD, "Auto", Held.CHEZ_NOUS, "Allianz")
ELSEWHERE = InventoryRecord(Family.SANTE, "Mutuelle", Held.AILLEURS, "MGEN")
DUE = date(2026, 5, 1)


def codes(unmet) -> list[str]:
    return [u.code for u in unmet]


def test_guards__bilan_nothing_recorded_names_inventory_and_outcome_together():
    assert codes(bilan_complete(case("contrats_finalises"), {})) == ["inventory_elsewhere", "outcome"]


def test_guards__bilan_lines_held_with_us_do_not_count_as_elsewhere():
    c = case("contrats_finalises", inventory=(HERE,), outcomes=(OutcomeKind.SATISFIED,))
    assert codes(bilan_complete(c, {})) == ["inventory_elsewhere"]


@pytest.mark.parametrize(("inventory", "nothing_elsewhere"), [((ELSEWHERE,), False), ((), True), ((HERE,), True)])
def test_guards__bilan_elsewhere_line_or_nothing_elsewhere_with_an_outcome_passes(inventory, nothing_elsewhere):
    need = OutcomeRecord(1, OutcomeKind.COMPLEMENTARY_NEED, "MRH", client_decision=ClientDecision.TO_THINK)
    c = case("contrats_finalises", inventory=inventory, nothing_elsewhere=nothing_elsewhere,
             outcomes=(need.kind,), outcome_records=(need,))
    assert bilan_complete(c, {}) == []


@pytest.mark.parametrize("kind", [OutcomeKind.COMPLEMENTARY_NEED, OutcomeKind.SITUATION_CHANGE])
def test_guards__bilan_needs_the_clients_decision_on_each_need_and_change(kind):
    undecided = OutcomeRecord(4, kind, "détail")
    decided = OutcomeRecord(5, kind, "détail", client_decision=ClientDecision.REFUSED)
    c = case("contrats_finalises", nothing_elsewhere=True, outcomes=(kind, kind), outcome_records=(undecided, decided))
    assert codes(bilan_complete(c, {})) == ["outcome.4.client_decision"]


def test_guards__bilan_question_without_answer_and_satisfied_without_decision():
    question = OutcomeRecord(2, OutcomeKind.TECHNICAL_QUESTION, "franchise ?")
    satisfied = OutcomeRecord(3, OutcomeKind.SATISFIED)
    c = case("contrats_finalises", nothing_elsewhere=True, outcomes=(question.kind, satisfied.kind),
             outcome_records=(question, satisfied))
    assert codes(bilan_complete(c, {})) == ["outcome.2.answer"]


def test_guards__bilan_outcome_is_required_even_with_nothing_elsewhere():
    c = case("contrats_finalises", nothing_elsewhere=True)
    assert codes(bilan_complete(c, {})) == ["outcome"]


def test_guards__bilan_completed_freezes_inventory_and_outcomes_in_the_audit_changes(now):
    c = case("contrats_finalises", inventory=(ELSEWHERE,), outcomes=(OutcomeKind.SATISFIED,), bilan_count=0,
             decisions=())
    fx = decide(c, FireEvent("terminer_bilan"), now)
    assert fx.case["state"] == "bilan_fait" and fx.case["bilan_at"] == now
    content = fx.changes["bilan"][1]
    assert content["inventory"] == {"chez_nous": [], "ailleurs": [
        {"family": "Santé", "product": "Mutuelle", "insurer": "MGEN", "renewal_date": None, "contract_id": None}]}
    assert content["nothing_elsewhere"] is False and content["satisfied"] is True and content["needs"] == []
    assert fx.changes["bilan_record"][1]["seq"] == 1


@pytest.mark.parametrize("action", [
    ActionRecord(1, ActionKind.DEVIS, None, DUE),
    ActionRecord(1, ActionKind.DEVIS, 1, None),
    ActionRecord(1, ActionKind.RDV, 1, DUE, ActionStatus.DONE),
    ActionRecord(1, ActionKind.RDV, 1, DUE, ActionStatus.CANCELLED),
], ids=["no-owner", "no-due-date", "done", "cancelled"])
def test_guards__actions_planned_needs_an_open_action_with_owner_and_due_date(action):
    assert codes(actions_planned(case("bilan_fait", actions=(action,)), {})) == ["action"]
    ready = ActionRecord(2, ActionKind.RELANCE, 1, DUE)
    assert actions_planned(case("bilan_fait", actions=(action, ready)), {}) == []


def test_guards__actions_finished_names_every_open_action():
    actions = (ActionRecord(1, ActionKind.DEVIS, 1, DUE), ActionRecord(2, ActionKind.RDV, 1, DUE, ActionStatus.DONE),
               ActionRecord(3, ActionKind.ENVOI, 1, DUE))
    unmet = actions_finished(case("actions_planifiees", actions=actions), {})
    assert [(u.code, u.message) for u in unmet] == [("action.1", "action devis n° 1 encore ouverte"),
                                                    ("action.3", "action envoi n° 3 encore ouverte")]


def test_guards__actions_finished_passes_when_all_are_done_or_cancelled():
    actions = (ActionRecord(1, ActionKind.DEVIS, 1, DUE, ActionStatus.DONE),
               ActionRecord(2, ActionKind.RDV, 1, DUE, ActionStatus.CANCELLED))
    assert actions_finished(case("actions_planifiees", actions=actions), {}) == []


def test_guards__satisfied_close_after_bilan_when_all_outcomes_satisfied_and_no_open_action(now):
    c = case("bilan_fait", outcomes=(OutcomeKind.SATISFIED, OutcomeKind.SATISFIED),
             actions=(ActionRecord(1, ActionKind.RELANCE, 1, DUE, ActionStatus.DONE),))
    fx = decide(c, FireEvent("cloturer_satisfait"), now)
    assert fx.case["state"] == "cloture" and fx.case["closing_reason"] == "complet"


@pytest.mark.parametrize(("outcomes", "actions", "expected"), [
    ((), (), ["outcome"]),
    ((OutcomeKind.SATISFIED, OutcomeKind.COMPLEMENTARY_NEED), (), ["outcome"]),
    ((OutcomeKind.TECHNICAL_QUESTION,), (), ["outcome"]),
    ((OutcomeKind.SATISFIED,), (ActionRecord(1, ActionKind.DEVIS, 1, DUE),), ["action"]),
    ((OutcomeKind.SITUATION_CHANGE,), (ActionRecord(1, ActionKind.DEVIS, 1, DUE),), ["outcome", "action"]),
], ids=["no-outcome", "one-need", "question", "open-action", "both"])
def test_guards__satisfied_close_refused_otherwise(outcomes, actions, expected, now):
    c = case("bilan_fait", outcomes=outcomes, actions=actions)
    assert codes(satisfied_without_action(c, {})) == expected
    with pytest.raises(GuardFailed) as refused:
        decide(c, FireEvent("cloturer_satisfait"), now)
    assert codes(refused.value.unmet) == expected


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_guards__classer_sans_suite_needs_a_reason(reason, now):
    assert codes(reason_given(case(), {"reason": reason})) == ["reason"]
    with pytest.raises(GuardFailed):
        decide(case("joint_rdv"), FireEvent("classer_sans_suite", reason=reason), now)
    fx = decide(case("joint_rdv"), FireEvent("classer_sans_suite", reason="client décédé"), now)
    assert fx.case["closing_reason"] == "sans_suite" and fx.reason == "client décédé"
