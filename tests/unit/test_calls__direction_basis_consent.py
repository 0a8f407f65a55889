"""Recording a call as it happened (states/calls.py): D223-9 restricts outbound solicitation only;
inbound calls and calls at a consented appointment are recorded whatever the hour; no contact
before the case opened or in the future; a solicitation before the window opens is "trop tôt"."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from states.calling_rules import solicitation_count_refusal
from states.commands import RecordAttempt
from states.decide import decide
from states.effects import Row
from states.errors import CallingRulesViolation, InvalidChange
from states.records import (
    AppointmentChannel, AppointmentRecord, AppointmentStatus, AttemptOutcome, AttemptRecord, CallBasis, Channel,
    Direction,
)
from tests.unit.domain_builders import PARTICULIER, case

PARIS = ZoneInfo("Europe/Paris")
OPENED = datetime(2026, 4, 1, 7, 0, tzinfo=timezone.utc)
# The case of the builders: due 15 April 2026, window 8-22 April, opened on 1 April.
DATES = dict(agency_id="corniche", created_at=OPENED, window_start=date(2026, 4, 8), window_end=date(2026, 4, 22))


def paris(m, d, hh, mm=0) -> datetime:
    return datetime(2026, m, d, hh, mm, tzinfo=PARIS)


def open_case(state="a_contacter", **kw):
    return case(state, **{**DATES, **kw})


def call(at, outcome=AttemptOutcome.NO_ANSWER, **kw) -> RecordAttempt:
    return RecordAttempt(Channel.PHONE, at, outcome, **kw)


SATURDAY_9 = paris(4, 18, 9)
APPOINTMENT = AppointmentRecord(7, paris(4, 16, 8, 30), AppointmentChannel.PHONE, AppointmentStatus.SCHEDULED, 1)


def test_calls__attempt_without_direction_or_basis_is_an_outbound_solicitation(now):
    fx = decide(open_case(), call(now), now)
    [row] = fx.inserts
    assert row.row is Row.ATTEMPT
    assert row.values["direction"] == "outbound" and row.values["basis"] == "solicitation"
    assert row.values["appointment_id"] is None
    assert fx.changes["attempt"][1]["basis"] == "solicitation"


def test_calls__inbound_saturday_call_is_recorded_and_reaches_the_client():
    later = SATURDAY_9 + timedelta(hours=1)
    fx = decide(open_case(), call(SATURDAY_9, AttemptOutcome.REACHED, direction=Direction.INBOUND), later)
    assert fx.inserts[0].values["direction"] == "inbound" and fx.inserts[0].values["basis"] is None
    assert fx.case["state"] == "joint_rdv"
    assert fx.case["reached_at"] == SATURDAY_9  # the time of the call, not of its recording


def test_calls__the_same_saturday_call_placed_by_the_agency_is_refused():
    with pytest.raises(CallingRulesViolation) as refused:
        decide(open_case(), call(SATURDAY_9), SATURDAY_9 + timedelta(hours=1))
    assert refused.value.reasons[0] == "pas d'appel le week-end (samedi 18/04/2026)"


def test_calls__inbound_call_from_a_client_opposed_to_calls_is_recorded(now):
    opposed = replace(PARTICULIER, opposition_phone=True)
    fx = decide(open_case(client=opposed), call(now, direction=Direction.INBOUND), now)
    assert fx.inserts[0].values["direction"] == "inbound"
    with pytest.raises(CallingRulesViolation, match="opposé"):
        decide(open_case(client=opposed), call(now), now)


def test_calls__call_at_an_0830_appointment_is_allowed_and_marks_it_done():
    at = paris(4, 16, 8, 32)
    fx = decide(open_case(appointments=(APPOINTMENT,)),
                call(at, AttemptOutcome.REACHED, basis=CallBasis.APPOINTMENT, appointment_id=7), at)
    assert fx.inserts[0].values["basis"] == "appointment" and fx.inserts[0].values["appointment_id"] == 7
    [update] = fx.updates
    assert update.row is Row.APPOINTMENT and update.key == 7 and update.values["status"] == "done"
    assert fx.changes["appointment.7.status"] == ["scheduled", "done"]
    assert fx.case["reached_at"] == at


def test_calls__the_same_0830_call_as_a_solicitation_is_refused():
    at = paris(4, 16, 8, 32)
    with pytest.raises(CallingRulesViolation) as refused:
        decide(open_case(appointments=(APPOINTMENT,)), call(at), at)
    assert refused.value.reasons == ["hors des heures d'appel consommateur (D223-9) : 10:00-13:00 et 14:00-20:00, "
                                     "il est 08:32 chez le client"]


def test_calls__an_appointment_id_alone_makes_the_basis_appointment():
    at = paris(4, 16, 8, 30)
    fx = decide(open_case(appointments=(APPOINTMENT,)), call(at, appointment_id=7), at)
    assert fx.inserts[0].values["basis"] == "appointment"


def test_calls__a_second_call_at_a_done_appointment_is_allowed_and_changes_nothing_more():
    at = paris(4, 16, 8, 40)
    done = replace(APPOINTMENT, status=AppointmentStatus.DONE)
    fx = decide(open_case(appointments=(done,)), call(at, basis=CallBasis.APPOINTMENT, appointment_id=7), at)
    assert fx.updates == [] and "appointment.7.status" not in fx.changes


@pytest.mark.parametrize(("kw", "field", "message"), [
    (dict(basis=CallBasis.APPOINTMENT), "appointment_id", "indique le rendez-vous"),
    (dict(basis=CallBasis.APPOINTMENT, appointment_id=99), "appointment_id", "rendez-vous 99 inconnu"),
    (dict(basis=CallBasis.SOLICITATION, appointment_id=7), "basis", "base « appointment »"),
    (dict(direction=Direction.INBOUND, basis=CallBasis.SOLICITATION), "basis", "entrant"),
    (dict(direction=Direction.INBOUND, appointment_id=7), "basis", "entrant"),
], ids=["no-id", "unknown-id", "solicitation-with-id", "inbound-with-basis", "inbound-with-appointment"])
def test_calls__contradictory_or_incomplete_basis_is_refused(kw, field, message):
    at = paris(4, 16, 8, 30)
    with pytest.raises(InvalidChange) as refused:
        decide(open_case(appointments=(APPOINTMENT,)), call(at, **kw), at)
    assert list(refused.value.errors) == [field] and message in refused.value.errors[field]


def test_calls__a_cancelled_appointment_gives_no_consent():
    at = paris(4, 16, 8, 30)
    cancelled = replace(APPOINTMENT, status=AppointmentStatus.CANCELLED)
    with pytest.raises(InvalidChange, match="annulé"):
        decide(open_case(appointments=(cancelled,)), call(at, appointment_id=7), at)


def test_calls__a_call_far_from_the_appointment_is_not_its_call_and_the_tolerance_is_a_parameter():
    at = paris(4, 16, 10, 31)  # 2 h 01 after 08:30
    with pytest.raises(InvalidChange) as refused:
        decide(open_case(appointments=(APPOINTMENT,)), call(at, appointment_id=7), at)
    assert refused.value.errors["at"] == ("appel du 16/04/2026 à 10:31 trop loin du rendez-vous du 16/04/2026 à 08:30 "
                                          "(± 2 h, heure du client)")
    fx = decide(open_case(appointments=(APPOINTMENT,)), call(at, appointment_id=7, tolerance=timedelta(hours=3)), at)
    assert fx.inserts[0].values["appointment_id"] == 7
    early = paris(4, 16, 6, 29)  # 2 h 01 before
    with pytest.raises(InvalidChange):
        decide(open_case(appointments=(APPOINTMENT,)), call(early, appointment_id=7), at)


def test_calls__appointment_and_inbound_calls_do_not_count_toward_the_four_solicitations():
    four = tuple(AttemptRecord(Channel.PHONE, paris(4, d, 11), AttemptOutcome.NO_ANSWER) for d in (9, 10, 13, 14))
    at = paris(4, 16, 8, 30)
    snap = open_case(attempts=four, appointments=(APPOINTMENT,))
    assert decide(snap, call(at, appointment_id=7), at).inserts
    assert decide(snap, call(paris(4, 15, 21), direction=Direction.INBOUND), at).inserts
    with pytest.raises(CallingRulesViolation, match="déjà 4 appels"):
        decide(snap, call(paris(4, 15, 11)), at)
    # Recorded consented calls and inbound calls do not use up the allowance either.
    others = (AttemptRecord(Channel.PHONE, paris(4, 9, 11), AttemptOutcome.NO_ANSWER, Direction.INBOUND),
              AttemptRecord(Channel.PHONE, paris(4, 10, 8), AttemptOutcome.NO_ANSWER, Direction.OUTBOUND,
                            CallBasis.APPOINTMENT, 7))
    assert decide(open_case(attempts=four[:3] + others), call(paris(4, 15, 11)), at).inserts


def test_calls__back_dated_solicitation_that_would_make_a_fifth_in_some_window_is_refused():
    # Four calls already recorded on 20-23 April; one of 16 April entered afterwards.
    four = tuple(AttemptRecord(Channel.PHONE, paris(4, d, 11), AttemptOutcome.NO_ANSWER) for d in (20, 21, 22, 23))
    now = paris(4, 24, 12)
    with pytest.raises(CallingRulesViolation) as refused:
        decide(open_case(attempts=four), call(paris(4, 16, 11)), now)
    assert refused.value.reasons == ["déjà 4 appels sur 30 jours glissants du 25/03/2026 au 23/04/2026 "
                                     "(maximum 4, D223-9)"]
    # The same call recorded as the client's own (inbound) is a fact, not a solicitation.
    assert decide(open_case(attempts=four), call(paris(4, 16, 11), direction=Direction.INBOUND), now).inserts


def test_calls__the_30_days_are_calendar_days_in_the_clients_time_zone():
    reunion = replace(PARTICULIER, postal_code="97400", phone="+262692123456")
    tz = ZoneInfo("Indian/Reunion")
    # 23:30 in Paris on 13 April is 01:30 on 14 April in Réunion (UTC+4).
    first = AttemptRecord(Channel.PHONE, paris(4, 13, 23, 30), AttemptOutcome.NO_ANSWER)
    four = (first, *(AttemptRecord(Channel.PHONE, datetime(2026, 4, d, 11, tzinfo=tz), AttemptOutcome.NO_ANSWER)
                     for d in (15, 16, 17)))
    at = datetime(2026, 5, 13, 10, 30, tzinfo=tz)  # the 30th calendar day from 14 April, in Réunion
    assert solicitation_count_refusal(at, four, tz) is not None
    assert solicitation_count_refusal(at, four, PARIS) is None  # read in Paris, 13 April has left
    with pytest.raises(CallingRulesViolation, match="du 14/04/2026 au 13/05/2026"):
        decide(open_case(client=reunion, attempts=four), call(at), datetime(2026, 5, 20, tzinfo=tz))
    assert decide(open_case(client=reunion, attempts=four), call(at + timedelta(days=2)),  # 14 May: Ascension
                  datetime(2026, 5, 20, tzinfo=tz)).inserts


def test_calls__a_call_before_the_case_opened_is_refused_with_the_opening_date():
    with pytest.raises(InvalidChange) as refused:
        decide(open_case(), call(paris(3, 31, 11), direction=Direction.INBOUND), paris(4, 15, 11))
    assert refused.value.errors == {"at": "le dossier a été ouvert le 01/04/2026 à 09:00 : une tentative du "
                                          "31/03/2026 à 11:00 ne peut pas le précéder"}


def test_calls__a_call_in_the_future_is_refused_with_both_times(now):
    with pytest.raises(InvalidChange) as refused:
        decide(open_case(), call(now + timedelta(minutes=5), direction=Direction.INBOUND), now)
    assert refused.value.errors == {"at": "une tentative ne peut pas être dans le futur (15/04/2026 à 10:35, "
                                          "il est 15/04/2026 à 10:30 chez le client)"}


def test_calls__a_solicitation_before_the_window_opens_is_too_early():
    at = paris(4, 7, 11)  # Tuesday, the day before the window opens
    with pytest.raises(CallingRulesViolation) as refused:
        decide(open_case(), call(at), at)
    assert refused.value.reasons == ["trop tôt : la fenêtre de contact s'ouvre le 08/04/2026 (appel du 07/04/2026)"]
    assert decide(open_case(), call(paris(4, 8, 11)), paris(4, 8, 12)).inserts  # the first day is fine
    assert decide(open_case(), call(at, direction=Direction.INBOUND), at).inserts  # the client may ring


def test_calls__too_early_is_read_in_the_clients_time_zone():
    # 23:30 in Paris on 7 April is 01:30 on 8 April in Réunion: inside the window there... but
    # outside the hours; at 06:30 UTC on 8 April it is 10:30 there and the window is open.
    reunion = replace(PARTICULIER, postal_code="97400", phone="+262692123456")
    at = datetime(2026, 4, 8, 6, 30, tzinfo=timezone.utc)
    assert decide(open_case(client=reunion), call(at), at).inserts
    with pytest.raises(CallingRulesViolation, match="trop tôt"):
        decide(open_case(client=reunion), call(at - timedelta(days=1)), at)


@pytest.mark.parametrize(("advisor", "message"), [(99, "inconnu"), (2, "n'est plus actif"),
                                                  (3, "appartient à l'agence rouviere")])
def test_calls__the_attempts_advisor_must_exist_be_active_and_of_the_cases_agency(advisor, message, now):
    with pytest.raises(InvalidChange) as refused:
        decide(open_case(), call(now, advisor_id=advisor), now)
    assert list(refused.value.errors) == ["advisor_id"] and message in refused.value.errors["advisor_id"]


def test_calls__emails_are_outbound_when_sent_and_inbound_when_the_client_replied(now):
    sent = decide(open_case(), RecordAttempt(Channel.EMAIL, now, AttemptOutcome.SENT), now)
    replied = decide(open_case(), RecordAttempt(Channel.EMAIL, now, AttemptOutcome.REPLIED), now)
    assert sent.inserts[0].values["direction"] == "outbound" and replied.inserts[0].values["direction"] == "inbound"
    assert sent.inserts[0].values["basis"] is None
    with pytest.raises(InvalidChange) as refused:
        decide(open_case(), RecordAttempt(Channel.EMAIL, now, AttemptOutcome.SENT, direction=Direction.INBOUND), now)
    assert list(refused.value.errors) == ["direction"]
    with pytest.raises(InvalidChange) as refused:
        decide(open_case(), call(now, AttemptOutcome.SENT), now)
    assert list(refused.value.errors) == ["outcome"]


def test_calls__reached_at_is_the_time_of_the_call_not_of_its_recording(now):
    at = now - timedelta(days=2)
    fx = decide(open_case(), call(at, AttemptOutcome.REACHED), now)
    assert fx.case["reached_at"] == at
