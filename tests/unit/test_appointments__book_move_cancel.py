"""Appointments (states/appointments.py): booked only with the client's agreement and in the
future, "RDV pris" on an unreached case, moved and cancelled with audit, and a confirmation or
cancellation email queued as a service message (even to a client opposed to marketing email)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from states.appointments import status_at
from states.commands import BookAppointment, CancelAppointment, MoveAppointment
from states.decide import decide
from states.effects import Notify, Row
from states.errors import InvalidChange
from states.records import AppointmentChannel, AppointmentRecord, AppointmentStatus
from tests.unit.domain_builders import PARTICULIER, case

PARIS = ZoneInfo("Europe/Paris")
DATES = dict(agency_id="corniche", created_at=datetime(2026, 4, 1, 7, tzinfo=timezone.utc),
             window_start=date(2026, 4, 8), window_end=date(2026, 4, 22))
AT_0830 = datetime(2026, 4, 17, 8, 30, tzinfo=PARIS)  # Friday, 08:30: outside D223-9's hours, consented
PHONE = AppointmentChannel.PHONE
BOOKED = AppointmentRecord(4, AT_0830, PHONE, AppointmentStatus.SCHEDULED, 1)


def utc(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat()


def snap(state="a_contacter", **kw):
    return case(state, **{**DATES, "appointments": (), **kw})


def test_appointments__booking_needs_the_clients_agreement(now):
    with pytest.raises(InvalidChange) as refused:
        decide(snap(), BookAppointment(AT_0830, PHONE, client_agreed=False, advisor_id=1), now)
    assert list(refused.value.errors) == ["client_agreed"]


def test_appointments__booking_in_the_past_is_refused_in_the_clients_time(now):
    with pytest.raises(InvalidChange) as refused:
        decide(snap(), BookAppointment(now - timedelta(minutes=1), PHONE, True, 1), now)
    assert refused.value.errors == {"at": "rendez-vous dans le passé : 15/04/2026 10:29 (Europe/Paris), "
                                          "il est 15/04/2026 10:30 (Europe/Paris)"}


@pytest.mark.parametrize(("advisor", "message"), [(None, "indiquez"), (99, "inconnu"), (2, "n'est plus actif"),
                                                  (3, "appartient à l'agence rouviere")])
def test_appointments__the_advisor_must_be_active_and_of_the_cases_agency(advisor, message, now):
    with pytest.raises(InvalidChange) as refused:
        decide(snap(), BookAppointment(AT_0830, PHONE, True, advisor), now)
    assert message in refused.value.errors["advisor_id"]


def test_appointments__booking_is_rdv_pris_on_an_unreached_case(now):
    fx = decide(snap("email_envoye"), BookAppointment(AT_0830, PHONE, True, 1), now)
    [row] = fx.inserts
    assert row.row is Row.APPOINTMENT
    assert row.values == {"at": AT_0830, "channel": "phone", "client_agreed": True, "status": "scheduled",
                          "advisor_id": 1, "created_at": now, "updated_at": now}
    assert fx.case["state"] == "joint_rdv" and fx.case["reached_at"] == now
    assert fx.changes["case.state"] == ["email_envoye", "joint_rdv"]
    assert fx.changes["appointment"][1]["client_time"] == "17/04/2026 08:30 (Europe/Paris)"


def test_appointments__booking_on_a_reached_case_keeps_its_state(now):
    fx = decide(snap("fiche_validee"), BookAppointment(AT_0830, AppointmentChannel.AGENCY, True, 1), now)
    assert "state" not in fx.case


def test_appointments__booking_queues_a_confirmation_with_what_was_booked(now):
    fx = decide(snap(), BookAppointment(AT_0830, PHONE, True, 1), now)
    assert fx.notifications == [Notify("appointment_confirmation", {
        "appointment_id": None, "at": utc(AT_0830), "channel": "phone", "advisor_id": 1, "update": False})]
    assert fx.changes["notification.appointment_confirmation"] == [None, "en file pour marie.dupont@example.fr"]


def test_appointments__the_confirmation_is_a_service_message_sent_despite_an_email_opposition(now):
    opposed = replace(PARTICULIER, opposition_email=True)
    fx = decide(snap(client=opposed), BookAppointment(AT_0830, PHONE, True, 1), now)
    assert [n.kind for n in fx.notifications] == ["appointment_confirmation"]


@pytest.mark.parametrize(("email", "why"), [(None, "email manquant"), ("marie@", "email invalide")])
def test_appointments__without_a_valid_email_nothing_is_queued_and_the_change_says_so(email, why, now):
    fx = decide(snap(client=replace(PARTICULIER, email=email)), BookAppointment(AT_0830, PHONE, True, 1), now)
    assert fx.notifications == [] and fx.inserts  # booked all the same
    assert fx.changes["notification.appointment_confirmation"][1].startswith(f"non envoyé : {why}")


def test_appointments__moving_updates_it_audits_before_after_and_sends_an_updated_confirmation(now):
    new_at = AT_0830 + timedelta(days=3, hours=9)  # Monday 17:30
    fx = decide(snap(appointments=(BOOKED,)), MoveAppointment(4, new_at, reason="le client travaille le matin"), now)
    [update] = fx.updates
    assert update.row is Row.APPOINTMENT and update.key == 4
    assert update.values == {"at": new_at, "updated_at": now}
    assert fx.changes["appointment.4.at"] == [utc(AT_0830), utc(new_at)]
    assert fx.changes["appointment.4.client_time"] == ["17/04/2026 08:30 (Europe/Paris)",
                                                       "20/04/2026 17:30 (Europe/Paris)"]
    assert fx.reason == "le client travaille le matin"
    [note] = fx.notifications
    assert note.kind == "appointment_confirmation"
    assert note.payload["update"] is True and note.payload["previous_at"] == utc(AT_0830) == "2026-04-17T06:30:00+00:00"
    assert note.payload["appointment_id"] == 4 and note.payload["at"] == utc(new_at)


def test_appointments__moving_to_another_channel_or_advisor_of_the_agency(now):
    fx = decide(snap(appointments=(BOOKED,)), MoveAppointment(4, channel=AppointmentChannel.VIDEO), now)
    assert fx.updates[0].values == {"channel": "video", "updated_at": now}
    with pytest.raises(InvalidChange, match="rouviere"):
        decide(snap(appointments=(BOOKED,)), MoveAppointment(4, advisor_id=3), now)


@pytest.mark.parametrize(("appointments", "command", "field"), [
    ((BOOKED,), MoveAppointment(4), "appointment"),
    ((BOOKED,), MoveAppointment(4, AT_0830), "appointment"),
    ((), MoveAppointment(4, AT_0830), "appointment_id"),
    ((replace(BOOKED, status=AppointmentStatus.CANCELLED),), MoveAppointment(4, AT_0830 + timedelta(days=1)),
     "appointment_id"),
    ((replace(BOOKED, status=AppointmentStatus.DONE),), MoveAppointment(4, AT_0830 + timedelta(days=1)),
     "appointment_id"),
    ((BOOKED,), MoveAppointment(4, datetime(2026, 4, 14, 9, tzinfo=timezone.utc)), "at"),
], ids=["nothing", "same-time", "unknown", "cancelled", "done", "past"])
def test_appointments__moves_that_change_nothing_or_touch_a_closed_one_are_refused(appointments, command, field, now):
    with pytest.raises(InvalidChange) as refused:
        decide(snap(appointments=appointments), command, now)
    assert list(refused.value.errors) == [field]


def test_appointments__cancelling_needs_a_reason_and_sends_a_cancellation_notice(now):
    with pytest.raises(InvalidChange) as refused:
        decide(snap(appointments=(BOOKED,)), CancelAppointment(4, "  "), now)
    assert list(refused.value.errors) == ["reason"]
    fx = decide(snap(appointments=(BOOKED,)), CancelAppointment(4, "le client a rappelé pour annuler"), now)
    assert fx.updates[0].values == {"status": "cancelled", "cancel_reason": "le client a rappelé pour annuler",
                                    "updated_at": now}
    assert fx.changes == {"appointment.4.status": ["scheduled", "cancelled"],
                          "notification.appointment_cancellation": [None, "en file pour marie.dupont@example.fr"]}
    assert fx.reason == "le client a rappelé pour annuler"
    assert [n.kind for n in fx.notifications] == ["appointment_cancellation"]


def test_appointments__cancelling_a_past_missed_appointment_tells_the_client_nothing(now):
    past = replace(BOOKED, at=now - timedelta(days=1))
    fx = decide(snap(appointments=(past,)), CancelAppointment(4, "manqué, le client ne répond plus"), now)
    assert fx.notifications == []
    assert fx.changes["notification.appointment_cancellation"] == [None, "non envoyé : le rendez-vous est déjà passé"]


def test_appointments__a_closed_case_takes_no_appointment(now):
    with pytest.raises(InvalidChange, match="clôturé"):
        decide(snap("cloture", closing_reason="refus"), BookAppointment(AT_0830, PHONE, True, 1), now)


def test_appointments__missed_is_derived_from_the_time_and_the_tolerance():
    tol = timedelta(hours=2)
    assert status_at("scheduled", AT_0830, AT_0830 + tol, tol) is AppointmentStatus.SCHEDULED
    assert status_at("scheduled", AT_0830, AT_0830 + tol + timedelta(seconds=1), tol) is AppointmentStatus.MISSED
    assert status_at("done", AT_0830, AT_0830 + timedelta(days=3), tol) is AppointmentStatus.DONE
    assert status_at("cancelled", AT_0830, AT_0830 + timedelta(days=3), tol) is AppointmentStatus.CANCELLED
