"""next_allowed_slot: the earliest moment an outbound solicitation is allowed, in the client's time zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from states.calling_rules import call_refusals, next_allowed_slot
from states.records import AttemptOutcome, AttemptRecord, Channel, ClientKind

PARIS = ZoneInfo("Europe/Paris")
P = ClientKind.PARTICULIER


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def call(at: datetime, outcome=AttemptOutcome.NO_ANSWER) -> AttemptRecord:
    return AttemptRecord(Channel.PHONE, at, outcome)


def test_next_allowed_slot__is_now_inside_the_hours():
    at = paris(2026, 4, 15, 10, 30)
    assert next_allowed_slot(P, "13007", at, []) == at


def test_next_allowed_slot__after_the_evening_is_the_next_morning():
    assert next_allowed_slot(P, "13007", paris(2026, 4, 15, 20, 30), []) == paris(2026, 4, 16, 10)


def test_next_allowed_slot__lunch_break_waits_for_two_pm():
    assert next_allowed_slot(P, "13007", paris(2026, 4, 15, 13, 10), []) == paris(2026, 4, 15, 14)


def test_next_allowed_slot__weekend_and_holiday_are_skipped():
    assert next_allowed_slot(P, "13007", paris(2026, 4, 18, 11), []) == paris(2026, 4, 20, 10)
    # Friday 1 May 2026 is a public holiday, then the weekend.
    assert next_allowed_slot(P, "13007", paris(2026, 4, 30, 20, 1), []) == paris(2026, 5, 4, 10)


def test_next_allowed_slot__professionals_from_nine():
    assert next_allowed_slot(ClientKind.PROFESSIONNEL, "13007", paris(2026, 4, 15, 19), []) == paris(2026, 4, 16, 9)


def test_next_allowed_slot__four_calls_in_thirty_days_wait_for_the_oldest_to_leave():
    calls = [call(paris(2026, 4, d, 11)) for d in (1, 2, 3, 6)]
    slot = next_allowed_slot(P, "13007", paris(2026, 4, 15, 11), calls)
    assert slot is not None and slot.date() > paris(2026, 4, 30).date()
    assert not call_refusals(P, "13007", slot, calls)
    assert call_refusals(P, "13007", slot - timedelta(days=1), calls)


def test_next_allowed_slot__sixty_days_after_a_refusal():
    calls = [call(paris(2026, 4, 1, 11), AttemptOutcome.REFUSED)]
    slot = next_allowed_slot(P, "13007", paris(2026, 4, 15, 11), calls)
    assert slot is not None and slot >= paris(2026, 5, 31, 11) and not call_refusals(P, "13007", slot, calls)


def test_next_allowed_slot__in_the_clients_time_zone():
    reunion = ZoneInfo("Indian/Reunion")  # UTC+4: 18:30 in Paris is 20:30 there
    slot = next_allowed_slot(P, "97400", paris(2026, 4, 15, 18, 30), [])
    assert slot == datetime(2026, 4, 16, 10, tzinfo=reunion) and slot.tzinfo.key == "Indian/Reunion"


@settings(max_examples=150, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
       st.lists(st.integers(min_value=0, max_value=40 * 24 * 60), max_size=6),
       st.sampled_from(list(ClientKind)))
def test_next_allowed_slot__is_always_allowed_and_never_before_the_asked_time(at, offsets, kind):
    at = at.replace(tzinfo=timezone.utc)
    calls = [call(at - timedelta(minutes=m)) for m in offsets]
    slot = next_allowed_slot(kind, "13007", at, calls)
    assert slot is not None and slot >= at
    assert call_refusals(kind, "13007", slot, calls) == []
