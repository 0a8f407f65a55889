"""A call recorded as a refusal closes the case as *refus* in the same change; what the contracts
still miss stays as one open "pièces à obtenir" action, the one thing a closed case lets be done."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from states import requirements
from states.commands import AddAction, CorrectClient, RecordAttempt, UpdateAction
from states.decide import decide
from states.effects import Row
from states.errors import CallingRulesViolation, InvalidChange
from states.records import (
    ActionKind, ActionRecord, ActionStatus, AttemptOutcome, AttemptRecord, Channel, ClientKind, Direction, Family,
    RequirementStatus,
)
from tests.unit.domain_builders import case, contract

OPENED = datetime(2026, 4, 1, 7, 0, tzinfo=timezone.utc)
DATES = dict(agency_id="corniche", created_at=OPENED, window_start=date(2026, 4, 8), window_end=date(2026, 4, 22))
V = RequirementStatus.VALIDATED
AUTO_DONE = dict(dp=V, devis=V, carte_grise=V, permis=V, releve_information=V, cni=V)


def refusal(at, **kw) -> RecordAttempt:
    return RecordAttempt(Channel.PHONE, at, AttemptOutcome.REFUSED, **kw)


def test_calls__refusal_closes_the_case_as_refus_in_the_same_change(now):
    at = now - timedelta(minutes=25)  # 10:05 in Paris, recorded at 10:30
    fx = decide(case("joint_rdv", **DATES), refusal(at), now)
    assert fx.case["state"] == "cloture" and fx.case["closing_reason"] == "refus" and fx.case["closed_at"] == now
    assert fx.changes["case.state"] == ["joint_rdv", "cloture"]
    assert fx.changes["case.closing_reason"] == [None, "refus"]
    assert fx.case["reached_at"] == at  # reached, to say no
    assert fx.inserts[0].row is Row.ATTEMPT and fx.inserts[0].values["outcome"] == "refused"


def test_calls__refusal_on_an_unreached_case_closes_it_too(now):
    fx = decide(case("email_envoye", **DATES), refusal(now, direction=Direction.INBOUND), now)
    assert fx.case["state"] == "cloture" and fx.case["closing_reason"] == "refus"


def test_calls__missing_pieces_become_one_open_pieces_action_with_owner_and_due_date(now):
    contracts = (contract("K1", dp=V, carte_grise=V), contract("K2", Family.IARD, "Habitation propriétaire", dp=V))
    fx = decide(case("fiche_validee", contracts=contracts, **DATES), refusal(now), now)
    [action] = [i for i in fx.inserts if i.row is Row.ACTION]
    values = action.values
    assert values["kind"] == ActionKind.PIECES.value == "pieces" and values["status"] == "open"
    assert values["owner_id"] == 1  # the case's advisor
    assert values["due_date"] == date(2026, 4, 22)  # 7 days (M3_PIECES_DUE_DAYS)
    # Grouped per contract, in checklist order, the satisfied ones left out (labels: requirements.toml).
    expected = " ; ".join(
        f"{k.product} ({k.id}) : " + ", ".join(i.label for i in requirements.checklist(k, ClientKind.PARTICULIER)
                                              if not i.satisfied) for k in contracts)
    assert values["label"] == "Pièces à obtenir : " + expected
    assert requirements.label("carte_grise") not in values["label"].split(" ; ")[0]
    missing = fx.changes["action"][1]["missing"]
    assert "K1.permis" in missing and "K1.carte_grise" not in missing and "K1.dp" not in missing
    assert any(m.startswith("K2.") for m in missing)
    assert fx.case["state"] == "cloture"


def test_calls__the_due_date_is_a_parameter(now):
    fx = decide(case(**DATES), refusal(now, pieces_due_days=14), now)
    [action] = [i for i in fx.inserts if i.row is Row.ACTION]
    assert action.values["due_date"] == date(2026, 4, 29)


def test_calls__nothing_missing_means_no_action(now):
    fx = decide(case(contracts=(contract("K1", **AUTO_DONE),), **DATES), refusal(now), now)
    assert [i.row for i in fx.inserts] == [Row.ATTEMPT]


def test_calls__a_case_without_advisor_takes_the_caller_as_owner_or_asks_for_one(now):
    fx = decide(case(assigned_advisor_id=None, **DATES), refusal(now, advisor_id=1), now)
    assert [i.values["owner_id"] for i in fx.inserts if i.row is Row.ACTION] == [1]
    with pytest.raises(InvalidChange) as refused:
        decide(case(assigned_advisor_id=None, **DATES), refusal(now), now)
    assert list(refused.value.errors) == ["advisor_id"]


def test_calls__the_60_day_block_after_a_refusal_still_holds(now):
    refused_before = (AttemptRecord(Channel.PHONE, now - timedelta(days=10), AttemptOutcome.REFUSED,
                                    Direction.INBOUND),)
    with pytest.raises(CallingRulesViolation, match="pas d'appel avant le"):
        decide(case(attempts=refused_before, **DATES), RecordAttempt(Channel.PHONE, now, AttemptOutcome.NO_ANSWER), now)


PIECES = ActionRecord(5, ActionKind.PIECES, 1, date(2026, 4, 22))
DEVIS = ActionRecord(6, ActionKind.DEVIS, 1, date(2026, 4, 22))
CLOSED = dict(closing_reason="refus", actions=(PIECES, DEVIS), **DATES)


def test_calls__a_closed_case_lets_its_open_pieces_action_be_done(now):
    fx = decide(case("cloture", **CLOSED), UpdateAction(5, status=ActionStatus.DONE), now)
    assert fx.changes == {"action.5.status": ["open", "done"]}


@pytest.mark.parametrize("command", [
    UpdateAction(6, status=ActionStatus.DONE),  # not a pieces action
    UpdateAction(5, status=ActionStatus.CANCELLED),  # cancelling would waive compliance
    UpdateAction(5, status=ActionStatus.DONE, owner_id=1),  # only "done", nothing else
    UpdateAction(5, due_date=date(2026, 5, 1)),
    AddAction(ActionKind.PIECES, 1, date(2026, 5, 1)),
    CorrectClient({"phone": "0612345678"}),
], ids=["other-kind", "cancel", "done-and-owner", "reschedule", "add", "correct"])
def test_calls__a_closed_case_refuses_everything_else(command, now):
    with pytest.raises(InvalidChange) as refused:
        decide(case("cloture", **CLOSED), command, now)
    assert refused.value.errors == {"state": "dossier clôturé : plus aucune modification"}


def test_calls__a_done_pieces_action_cannot_be_done_again_on_a_closed_case(now):
    done = ActionRecord(5, ActionKind.PIECES, 1, date(2026, 4, 22), ActionStatus.DONE)
    with pytest.raises(InvalidChange, match="clôturé"):
        decide(case("cloture", closing_reason="refus", actions=(done,), **DATES),
               UpdateAction(5, status=ActionStatus.DONE), now)


def test_calls__a_refusal_cancels_the_other_scheduled_appointments_without_notice(now):
    from states.records import AppointmentChannel, AppointmentRecord, AppointmentStatus

    at = now - timedelta(minutes=10)
    this = AppointmentRecord(1, at, AppointmentChannel.PHONE, AppointmentStatus.SCHEDULED, 1)
    later = AppointmentRecord(2, now + timedelta(days=3), AppointmentChannel.AGENCY, AppointmentStatus.SCHEDULED, 1)
    gone = AppointmentRecord(3, now + timedelta(days=4), AppointmentChannel.PHONE, AppointmentStatus.CANCELLED, 1)
    fx = decide(case("joint_rdv", appointments=(this, later, gone), **DATES), refusal(at, appointment_id=1), now)
    assert {(u.key, u.values["status"]) for u in fx.updates} == {(1, "done"), (2, "cancelled")}
    assert fx.changes["appointment.2.status"] == ["scheduled", "cancelled"]
    assert [u.values.get("cancel_reason") for u in fx.updates if u.key == 2] == ["refus du client"]
    assert fx.notifications == [] and fx.case["state"] == "cloture"
