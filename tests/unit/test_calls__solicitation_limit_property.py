"""Property: no sequence of attempts, whatever their dates and the order they are recorded in,
ever leaves five solicitations to a consumer inside any 30 calendar days (client's time zone)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import event, given, settings, strategies as st

from states.calendar import client_timezone
from states.commands import RecordAttempt
from states.decide import decide
from states.errors import DomainError
from states.records import AttemptOutcome, AttemptRecord, CallBasis, Channel, Direction
from tests.unit.domain_builders import PARTICULIER, case

FIRST_DAY = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 7, 1, 12, tzinfo=timezone.utc)  # after every generated call
OUTCOMES = [AttemptOutcome.NO_ANSWER, AttemptOutcome.VOICEMAIL, AttemptOutcome.WRONG_NUMBER, AttemptOutcome.REACHED]
CLIENTS = [PARTICULIER, replace(PARTICULIER, postal_code="97400", phone="+262692123456"),
           replace(PARTICULIER, postal_code="97110", phone="+590690123456")]

attempt = st.tuples(
    st.integers(0, 100),  # day
    st.sampled_from([time(10, 5), time(11, 30), time(12, 55), time(14, 0), time(17, 45), time(19, 59),
                     time(9, 0), time(21, 0), time(0, 30), time(23, 50)]),  # local hours, some out of bounds
    st.sampled_from(["solicitation", "solicitation", "solicitation", "inbound", "default"]),
    st.sampled_from(OUTCOMES),
)


def windows_hold_at_most(attempts, tz, limit: int = 4, days: int = 30) -> int:
    """The largest number of solicitations in any window of `days` calendar days."""
    local = sorted(a.at.astimezone(tz).date() for a in attempts if a.is_solicitation)
    worst = 0
    for i, start in enumerate(local):
        end = start + timedelta(days=days - 1)
        worst = max(worst, sum(1 for d in local[i:] if d <= end))
    return worst


@settings(max_examples=300, deadline=None)
@given(plan=st.lists(attempt, min_size=1, max_size=40), client=st.sampled_from(CLIENTS))
def test_calls__no_order_of_recording_ever_makes_five_solicitations_in_30_days(plan, client):
    tz = client_timezone(client.postal_code)
    snap = case("joint_rdv", client=client, attempts=(), agency_id="corniche")
    recorded: list[AttemptRecord] = []
    for day, at_time, kind, outcome in plan:
        at = datetime.combine(FIRST_DAY + timedelta(days=day), at_time, tz)
        kw = {"direction": Direction.INBOUND} if kind == "inbound" else \
            {"basis": CallBasis.SOLICITATION} if kind == "solicitation" else {}
        try:
            fx = decide(replace(snap, attempts=tuple(recorded)), RecordAttempt(Channel.PHONE, at, outcome, **kw), NOW)
        except DomainError:
            event("refused")
            continue
        event("accepted")
        v = fx.inserts[0].values
        recorded.append(AttemptRecord(Channel.PHONE, v["at"], AttemptOutcome(v["outcome"]), Direction(v["direction"]),
                                      CallBasis(v["basis"]) if v["basis"] else None))
        assert windows_hold_at_most(recorded, tz) <= 4, recorded
    if any(a.is_solicitation for a in recorded):
        event("some solicitation accepted")


def test_calls__the_checker_of_the_property_sees_a_fifth():
    tz = ZoneInfo("Europe/Paris")
    five = [AttemptRecord(Channel.PHONE, datetime(2026, 4, d, 11, tzinfo=tz), AttemptOutcome.NO_ANSWER)
            for d in (1, 8, 15, 22, 30)]
    assert windows_hold_at_most(five, tz) == 5
    assert windows_hold_at_most(five[:4] + [replace(five[4], direction=Direction.INBOUND)], tz) == 4
