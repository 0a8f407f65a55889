"""M3_TODAY (api/simulated.py): a date keeps the real time of day in Paris, a datetime freezes."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from api import simulated

PARIS = ZoneInfo("Europe/Paris")


def test_simulated__a_date_keeps_the_current_time_of_day_in_paris():
    real = lambda: datetime(2026, 4, 15, 8, 30, 12, tzinfo=timezone.utc)  # 10:30:12 in Paris (summer)  # noqa: E731
    now = simulated.clock("2026-11-21", real)()
    assert now.tzinfo is not None
    assert now.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 11, 21, 10, 30, 12)  # winter: UTC+1
    assert now == datetime(2026, 11, 21, 9, 30, 12, tzinfo=timezone.utc)


def test_simulated__the_time_moves_with_the_real_clock():
    ticks = iter([datetime(2026, 4, 15, 8, 0, tzinfo=timezone.utc), datetime(2026, 4, 15, 9, 15, tzinfo=timezone.utc)])
    clock = simulated.clock("2026-11-21", lambda: next(ticks))
    first, second = clock(), clock()
    assert (second - first).total_seconds() == 75 * 60 and first.date() == second.date() == date(2026, 11, 21)


def test_simulated__a_full_datetime_freezes_the_clock_naive_meaning_paris():
    clock = simulated.clock("2026-11-21T08:30:00")
    assert clock() == clock() == datetime(2026, 11, 21, 7, 30, tzinfo=timezone.utc)
    assert simulated.clock("2026-11-21T08:30:00+04:00")() == datetime(2026, 11, 21, 4, 30, tzinfo=timezone.utc)


def test_simulated__the_day_of_m3_today_is_what_today_defaults_to():
    assert simulated.simulated_day("2026-11-21") == date(2026, 11, 21)
    assert simulated.simulated_day("2026-11-21T23:30:00-05:00") == date(2026, 11, 22)  # 05:30 in Paris
    assert simulated.simulated_day(None) is None and simulated.simulated_day("") is None


@pytest.mark.parametrize("bad", ["21/11/2026", "2026-13-01", "demain"])
def test_simulated__an_unreadable_value_is_refused(bad):
    with pytest.raises(ValueError):
        simulated.clock(bad)
