"""D223-9 for consumers (hours, weekend, holidays, 4 calls / 30 days, 60 days after a refusal),
business hours for professionals; every refusal gives its reason in French."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from states.calling_rules import call_refusals
from states.records import AttemptOutcome, AttemptRecord, Channel, ClientKind

PARIS = ZoneInfo("Europe/Paris")
MARSEILLE, SAINT_DENIS_974, POINTE_A_PITRE_971 = "13007", "97400", "97110"
P, PRO, ENT = ClientKind.PARTICULIER, ClientKind.PROFESSIONNEL, ClientKind.ENTREPRISE


def paris(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=PARIS)


def call(at: datetime, outcome=AttemptOutcome.NO_ANSWER, channel=Channel.PHONE) -> AttemptRecord:
    return AttemptRecord(channel, at, outcome)


# Wednesday 15 April 2026, a plain business day.
@pytest.mark.parametrize(("hh", "mm"), [(10, 0), (12, 59), (14, 0), (19, 59)])
def test_calling_rules__consumer_inside_10_13_and_14_20_is_allowed(hh, mm):
    assert call_refusals(P, MARSEILLE, paris(2026, 4, 15, hh, mm), []) == []


@pytest.mark.parametrize(("hh", "mm"), [(9, 59), (13, 0), (13, 30), (20, 0), (22, 0), (8, 0)])
def test_calling_rules__consumer_outside_hours_is_refused_with_the_slots_and_local_time(hh, mm):
    reasons = call_refusals(P, MARSEILLE, paris(2026, 4, 15, hh, mm), [])
    assert reasons == [f"hors des heures d'appel consommateur (D223-9) : 10:00-13:00 et 14:00-20:00, "
                       f"il est {hh:02d}:{mm:02d} chez le client"]


@pytest.mark.parametrize(("day", "name"), [(18, "samedi"), (19, "dimanche")])
def test_calling_rules__weekend_is_refused_in_french(day, name):
    reasons = call_refusals(P, MARSEILLE, paris(2026, 4, day, 11), [])
    assert reasons == [f"pas d'appel le week-end ({name} {day}/04/2026)"]


@pytest.mark.parametrize("day", [paris(2026, 7, 14, 11), paris(2026, 5, 1, 11), paris(2026, 4, 6, 11)],
                         ids=["14-juillet", "1er-mai", "lundi-de-paques"])
def test_calling_rules__public_holiday_is_refused(day):
    assert call_refusals(P, MARSEILLE, day, []) == [f"pas d'appel un jour férié ({day:%d/%m/%Y})"]


def test_calling_rules__reunion_hours_are_read_in_indian_reunion_time():
    # 17:00 UTC: 19:00 in Paris (allowed) but 21:00 in Réunion (UTC+4).
    at = datetime(2026, 4, 15, 17, 0, tzinfo=timezone.utc)
    assert call_refusals(P, MARSEILLE, at, []) == []
    [reason] = call_refusals(P, SAINT_DENIS_974, at, [])
    assert reason.endswith("il est 21:00 chez le client")
    # 06:30 UTC: 08:30 in Paris (refused) but 10:30 in Réunion (allowed).
    early = datetime(2026, 4, 15, 6, 30, tzinfo=timezone.utc)
    assert call_refusals(P, SAINT_DENIS_974, early, []) == []
    assert call_refusals(P, MARSEILLE, early, []) != []


def test_calling_rules__guadeloupe_hours_are_read_in_america_guadeloupe_time():
    # 13:00 UTC: 15:00 in Paris but 09:00 in Guadeloupe (UTC-4).
    at = datetime(2026, 4, 15, 13, 0, tzinfo=timezone.utc)
    assert call_refusals(P, MARSEILLE, at, []) == []
    [reason] = call_refusals(P, POINTE_A_PITRE_971, at, [])
    assert reason.endswith("il est 09:00 chez le client")


def test_calling_rules__local_holidays_of_overseas_departments_apply():
    # 20 December: abolition of slavery in Réunion; 27 May in Guadeloupe. Ordinary days in Paris.
    reunion_day = datetime(2027, 12, 20, 11, tzinfo=ZoneInfo("Indian/Reunion"))
    guadeloupe_day = datetime(2026, 5, 27, 11, tzinfo=ZoneInfo("America/Guadeloupe"))
    assert call_refusals(P, SAINT_DENIS_974, reunion_day, []) == ["pas d'appel un jour férié (20/12/2027)"]
    assert call_refusals(P, POINTE_A_PITRE_971, guadeloupe_day, []) == ["pas d'appel un jour férié (27/05/2026)"]
    assert call_refusals(P, MARSEILLE, datetime(2027, 12, 20, 11, tzinfo=PARIS), []) == []


FOUR_CALLS = [call(paris(2026, 4, d, 11)) for d in (7, 8, 9, 10)]  # Tuesday to Friday


def test_calling_rules__fifth_call_within_rolling_30_days_is_refused():
    reasons = call_refusals(P, MARSEILLE, paris(2026, 4, 15, 11), FOUR_CALLS)
    assert reasons == ["déjà 4 appels sur 30 jours glissants du 17/03/2026 au 15/04/2026 (maximum 4, D223-9)"]
    # Day 30 after the first call: the first one is still inside the window.
    assert call_refusals(P, MARSEILLE, paris(2026, 5, 6, 11), FOUR_CALLS) != []


def test_calling_rules__on_the_31st_day_the_first_call_leaves_the_window():
    assert call_refusals(P, MARSEILLE, paris(2026, 5, 7, 11), FOUR_CALLS) == []


def test_calling_rules__three_calls_leave_room_for_a_fourth():
    assert call_refusals(P, MARSEILLE, paris(2026, 4, 15, 11), FOUR_CALLS[:3]) == []


def test_calling_rules__emails_and_letters_do_not_count_as_calls():
    others = [call(paris(2026, 4, d, 11), AttemptOutcome.SENT, Channel.EMAIL) for d in (7, 8, 9, 10)]
    others.append(call(paris(2026, 4, 13, 11), AttemptOutcome.SENT, Channel.LETTER))
    assert call_refusals(P, MARSEILLE, paris(2026, 4, 15, 11), others) == []


REFUSAL = [call(paris(2026, 4, 10, 11), AttemptOutcome.REFUSED)]  # Friday 10 April


def test_calling_rules__no_call_for_60_days_after_a_refusal():
    reasons = call_refusals(P, MARSEILLE, paris(2026, 6, 8, 11), REFUSAL)  # day 59
    assert reasons == ["refus le 10/04/2026 : pas d'appel avant le 09/06/2026 (D223-9)"]


def test_calling_rules__call_allowed_60_days_after_a_refusal():
    assert call_refusals(P, MARSEILLE, paris(2026, 6, 9, 11), REFUSAL) == []


def test_calling_rules__all_reasons_are_returned_together():
    calls = FOUR_CALLS + [call(paris(2026, 4, 13, 11), AttemptOutcome.REFUSED)]
    reasons = call_refusals(P, MARSEILLE, paris(2026, 4, 18, 21), calls)  # Saturday, 21:00
    assert [r.split(" ")[0:3] for r in reasons] == [
        ["pas", "d'appel", "le"], ["hors", "des", "heures"], ["déjà", "5", "appels"], ["refus", "le", "13/04/2026"]]


@pytest.mark.parametrize("kind", [PRO, ENT])
@pytest.mark.parametrize(("hh", "mm", "allowed"), [(9, 0, True), (12, 29, True), (12, 30, False), (13, 30, True),
                                                   (17, 59, True), (18, 0, False), (19, 0, False), (8, 59, False)])
def test_calling_rules__professionals_are_called_in_business_hours(kind, hh, mm, allowed):
    reasons = call_refusals(kind, MARSEILLE, paris(2026, 4, 15, hh, mm), [])
    if allowed:
        assert reasons == []
    else:
        assert reasons == [f"hors des heures d'appel professionnel : 09:00-12:30 et 13:30-18:00, "
                           f"il est {hh:02d}:{mm:02d} chez le client"]


@pytest.mark.parametrize("kind", [PRO, ENT])
def test_calling_rules__professionals_are_outside_the_consumer_limits_but_not_weekends_or_holidays(kind):
    calls = FOUR_CALLS + [call(paris(2026, 4, 13, 11), AttemptOutcome.REFUSED)]
    assert call_refusals(kind, MARSEILLE, paris(2026, 4, 15, 11), calls) == []
    assert call_refusals(kind, MARSEILLE, paris(2026, 4, 18, 11), []) == ["pas d'appel le week-end (samedi 18/04/2026)"]
    assert call_refusals(kind, MARSEILLE, paris(2026, 7, 14, 11), []) == ["pas d'appel un jour férié (14/07/2026)"]


def test_calling_rules__naive_time_is_rejected():
    with pytest.raises(ValueError):
        call_refusals(P, MARSEILLE, datetime(2026, 4, 15, 11), [])


def test_calling_rules__calls_recorded_after_it_in_time_count_too():
    # A back-dated entry: four calls already recorded on 16-19 April, a call of 15 April entered late.
    later = [call(paris(2026, 4, 15, 11) + timedelta(days=d)) for d in (1, 2, 3, 4)]
    assert call_refusals(P, MARSEILLE, paris(2026, 4, 15, 11), later) == [
        "déjà 4 appels sur 30 jours glissants du 21/03/2026 au 19/04/2026 (maximum 4, D223-9)"]
    # 30 days before the first of them, no window holds the five.
    assert call_refusals(P, MARSEILLE, paris(2026, 3, 17, 11), later) == []
