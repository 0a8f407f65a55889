"""decide(): corrections validated and normalised, waivers motivated and audited, escalation
stopped by a reply, closed cases frozen, refused events naming the allowed ones."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from states.commands import (
    AddAction, AddOutcome, ConfirmAssignment, CorrectClient, FireEvent, RecordAttempt, Reassign, SetRequirement,
)
from states.decide import decide
from states.effects import Row, Update
from states.errors import CallingRulesViolation, DomainError, EventNotAllowed, InvalidChange
from states.lifecycle import allowed_events
from states.records import (
    ActionKind, AttemptOutcome, Channel, ClientKind, Family, OutcomeKind, RequirementStatus,
)
from tests.unit.domain_builders import CLIENTS, PARTICULIER, case, contract


# ---------------------------------------------------------------- corrections
@pytest.mark.parametrize(("raw", "e164"), [("06 11 22 33 44", "+33611223344"), ("+33 6 98 76 54 32", "+33698765432"),
                                           ("01.42.34.56.78", "+33142345678")])
def test_decide__corrected_phone_is_stored_in_e164_and_audited(raw, e164, now):
    fx = decide(case(), CorrectClient({"phone": raw}), now)
    assert fx.client == {"phone": e164}
    assert fx.changes == {"client.phone": [PARTICULIER.phone, e164]}


def test_decide__same_phone_written_differently_changes_nothing(now):
    fx = decide(case(), CorrectClient({"phone": "06 12 34 56 78"}), now)
    assert fx.client == {} and fx.changes == {}


def test_decide__overseas_phone_is_read_with_the_new_postal_code(now):
    fx = decide(case(), CorrectClient({"postal_code": "97400", "phone": "0692 12 34 56"}), now)
    assert fx.client == {"postal_code": "97400", "phone": "+262692123456"}


def test_decide__reunion_mobile_with_a_metropolitan_postal_code_is_refused(now):
    with pytest.raises(InvalidChange) as refused:
        decide(case(), CorrectClient({"phone": "0692123456"}), now)
    assert list(refused.value.errors) == ["phone"]


def test_decide__naf_siret_email_are_normalised(now):
    pro = CLIENTS[ClientKind.PROFESSIONNEL]
    fx = decide(case(client=pro), CorrectClient({"naf_code": "4711d", "siret": "356 000 000 49837",
                                                 "email": "Paul@Example.FR"}), now)
    assert fx.client == {"naf_code": "47.11D", "siret": "35600000049837", "email": "Paul@example.fr"}


def test_decide__every_invalid_or_unknown_field_is_named_together(now):
    with pytest.raises(InvalidChange) as refused:
        decide(case(), CorrectClient({"siret": "73282932000075", "email": "x@", "couleur": "bleu",
                                      "agency_id": "rouviere", "headcount": "beaucoup", "opposition_email": "oui"}),
               now)
    errors = refused.value.errors
    assert set(errors) == {"siret", "email", "couleur", "agency_id", "headcount", "opposition_email"}
    assert errors["couleur"] == "champ inconnu ou non modifiable"
    assert errors["agency_id"] == "champ inconnu ou non modifiable"  # goes through ConfirmAssignment


def test_decide__empty_correction_is_refused(now):
    with pytest.raises(InvalidChange) as refused:
        decide(case(), CorrectClient({}), now)
    assert refused.value.errors == {"changes": "aucun champ à corriger"}


def test_decide__clearing_a_field_is_a_correction(now):
    fx = decide(case(), CorrectClient({"email": "  "}, reason="email refusé par le client"), now)
    assert fx.client == {"email": None} and fx.reason == "email refusé par le client"
    assert fx.changes == {"client.email": ["marie.dupont@example.fr", None]}


# ---------------------------------------------------------------- assignment
def test_decide__assignment_to_an_advisor_of_another_agency_or_inactive_is_refused(now):
    with pytest.raises(InvalidChange, match="appartient à l'agence rouviere"):
        decide(case(), ConfirmAssignment("corniche", 3), now)
    with pytest.raises(InvalidChange, match="n'est plus actif"):
        decide(case(), Reassign(2), now)
    with pytest.raises(InvalidChange, match="inconnu"):
        decide(case(), ConfirmAssignment("corniche", 99), now)


def test_decide__confirmed_assignment_is_recorded(now):
    fx = decide(case(), ConfirmAssignment("corniche", 1), now)
    assert fx.case == {"assignment_confirmed": True}
    assert fx.changes == {"case.assignment_confirmed": [False, True]}


# ---------------------------------------------------------------- waivers
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_decide__waiver_without_reason_is_refused(reason, now):
    with pytest.raises(InvalidChange) as refused:
        decide(case("fiche_validee"), SetRequirement("K1", "releve_information", RequirementStatus.WAIVED, reason),
               now)
    assert refused.value.errors == {"waiver_reason": "une dispense doit être motivée"}


def test_decide__waiver_is_audited_with_its_reason(now):
    reason = "conducteur novice : pas de relevé d'information"
    fx = decide(case("fiche_validee"), SetRequirement("K1", "releve_information", RequirementStatus.WAIVED, reason),
                now)
    assert fx.action == "set_requirement" and fx.reason == reason
    assert fx.changes == {"contract.K1.releve_information": ["missing", "waived"]}
    assert fx.updates == [Update(Row.REQUIREMENT, ("K1", "releve_information"),
                           {"status": "waived", "waiver_reason": reason, "updated_at": now})]


def test_decide__requirement_change_audits_the_previous_status(now):
    c = case("fiche_validee", contracts=(contract("K1", cni=RequirementStatus.RECEIVED),))
    fx = decide(c, SetRequirement("K1", "cni", RequirementStatus.VALIDATED), now)
    assert fx.changes == {"contract.K1.cni": ["received", "validated"]}


def test_decide__requirement_of_another_contract_or_unknown_code_is_refused(now):
    with pytest.raises(InvalidChange, match="n'est pas couvert"):
        decide(case(), SetRequirement("K9", "cni", RequirementStatus.RECEIVED), now)
    with pytest.raises(InvalidChange) as refused:
        decide(case(), SetRequirement("K1", "passeport", RequirementStatus.RECEIVED), now)
    assert "passeport" in refused.value.errors["code"] and "carte_grise" in refused.value.errors["code"]


# ---------------------------------------------------------------- attempts and escalation
@pytest.mark.parametrize("state", ["email_envoye", "courrier_envoye", "a_contacter"])
@pytest.mark.parametrize(("channel", "outcome"), [(Channel.PHONE, AttemptOutcome.REACHED),
                                                  (Channel.PHONE, AttemptOutcome.APPOINTMENT),
                                                  (Channel.EMAIL, AttemptOutcome.REPLIED),
                                                  (Channel.LETTER, AttemptOutcome.REPLIED)])
def test_decide__reaching_the_client_during_escalation_returns_the_case_to_joint_rdv(state, channel, outcome, now):
    fx = decide(case(state), RecordAttempt(channel, now, outcome), now)
    assert fx.case["state"] == "joint_rdv" and fx.case["reached_at"] == now
    assert fx.changes["case.state"] == [state, "joint_rdv"]
    assert fx.inserts[0].row is Row.ATTEMPT


def test_decide__failed_call_keeps_the_state(now):
    fx = decide(case("email_envoye"), RecordAttempt(Channel.PHONE, now, AttemptOutcome.NO_ANSWER), now)
    assert "state" not in fx.case and fx.inserts[0].values["outcome"] == "no_answer"


def test_decide__attempt_in_the_future_without_zone_or_by_unknown_advisor_is_refused(now):
    with pytest.raises(InvalidChange, match="futur"):
        decide(case(), RecordAttempt(Channel.PHONE, now + timedelta(minutes=1), AttemptOutcome.NO_ANSWER), now)
    with pytest.raises(InvalidChange, match="fuseau"):
        decide(case(), RecordAttempt(Channel.PHONE, now.replace(tzinfo=None), AttemptOutcome.NO_ANSWER), now)
    with pytest.raises(InvalidChange) as refused:
        decide(case(), RecordAttempt(Channel.PHONE, now, AttemptOutcome.NO_ANSWER, advisor_id=99), now)
    assert list(refused.value.errors) == ["advisor_id"]


def test_decide__call_outside_the_rules_or_against_opposition_is_refused(now):
    with pytest.raises(CallingRulesViolation) as refused:
        decide(case(), RecordAttempt(Channel.PHONE, now.replace(hour=20), AttemptOutcome.NO_ANSWER),
               now.replace(hour=21))
    assert refused.value.reasons[0].startswith("hors des heures d'appel")
    with pytest.raises(CallingRulesViolation, match="opposé"):
        decide(case(client=replace(PARTICULIER, opposition_phone=True)),
               RecordAttempt(Channel.PHONE, now, AttemptOutcome.NO_ANSWER), now)


def test_decide__email_attempt_must_be_sent_or_replied(now):
    with pytest.raises(InvalidChange) as refused:
        decide(case(), RecordAttempt(Channel.EMAIL, now, AttemptOutcome.NO_ANSWER), now)
    assert list(refused.value.errors) == ["outcome"]


# ---------------------------------------------------------------- events and closed cases
@pytest.mark.parametrize("command", [
    CorrectClient({"phone": "0612345678"}), SetRequirement("K1", "cni", RequirementStatus.RECEIVED),
    AddOutcome(OutcomeKind.SATISFIED), AddAction(ActionKind.DEVIS, 1, date(2026, 5, 1)),
    ConfirmAssignment("corniche", 1),
], ids=lambda c: type(c).__name__)
def test_decide__closed_case_refuses_changes(command, now):
    with pytest.raises(InvalidChange) as refused:
        decide(case("cloture", closing_reason="complet"), command, now)
    assert refused.value.errors == {"state": "dossier clôturé : plus aucune modification"}


@pytest.mark.parametrize("event", ["joindre", "enregistrer_refus", "classer_sans_suite"])
def test_decide__closed_case_refuses_every_event(event, now):
    with pytest.raises(EventNotAllowed) as refused:
        decide(case("cloture"), FireEvent(event, reason="x"), now)
    assert refused.value.allowed == []


@pytest.mark.parametrize(("state", "event"), [("a_contacter", "valider_fiche"), ("joint_rdv", "envoyer_email"),
                                              ("bilan_fait", "cloturer"), ("email_envoye", "envoyer_email")])
def test_decide__event_not_allowed_names_the_allowed_events(state, event, now):
    with pytest.raises(EventNotAllowed) as refused:
        decide(case(state), FireEvent(event), now)
    assert isinstance(refused.value, DomainError)
    assert refused.value.allowed == allowed_events(state)
    assert all(e in str(refused.value) for e in refused.value.allowed)


def test_decide__unknown_event_is_named(now):
    with pytest.raises(InvalidChange) as refused:
        decide(case(), FireEvent("tout_valider"), now)
    assert "tout_valider" in refused.value.errors["event"]


def test_decide__closing_events_record_their_reason_and_time(now):
    fx = decide(case("courrier_envoye"), FireEvent("declarer_injoignable"), now)
    assert fx.case == {"state": "cloture", "closing_reason": "injoignable", "closed_at": now}
    fx = decide(case("fiche_validee"), FireEvent("enregistrer_refus", reason="ne souhaite pas"), now)
    assert fx.case["closing_reason"] == "refus" and fx.reason == "ne souhaite pas"


def test_decide__sending_the_email_escalates_and_enqueues_a_message(now):
    fx = decide(case(), FireEvent("envoyer_email"), now)
    assert fx.case == {"state": "email_envoye", "escalation_step": 1, "escalated_at": now}
    assert fx.notifications == ["client_email"]


def test_decide__email_guard_names_opposition_and_missing_email(now):
    from states.errors import GuardFailed

    client = replace(PARTICULIER, opposition_email=True, email=None)
    with pytest.raises(GuardFailed) as refused:
        decide(case(client=client), FireEvent("envoyer_email"), now)
    assert [u.code for u in refused.value.unmet] == ["opposition_email", "email"]


def test_decide__santé_contract_family_drives_its_documents(now):
    c = case("fiche_validee", contracts=(contract("K1", Family.SANTE, "Complémentaire santé"),))
    fx = decide(c, SetRequirement("K1", "attestation_droits", RequirementStatus.RECEIVED), now)
    assert fx.changes == {"contract.K1.attestation_droits": ["missing", "received"]}
