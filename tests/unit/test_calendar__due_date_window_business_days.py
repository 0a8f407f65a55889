"""Due date = effective + 3 months (short months clamp), window ± 7 days, French business days."""
from __future__ import annotations

import calendar as pycal
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states.calendar import (
    add_business_days, business_days_between, client_timezone, contact_window, due_date, is_business_day,
    is_public_holiday, month_bounds, previous_month,
)


@pytest.mark.parametrize(("effective", "due"), [
    (date(2026, 1, 15), date(2026, 4, 15)),   # the process document's example
    (date(2026, 1, 31), date(2026, 4, 30)),   # April has no 31st
    (date(2026, 11, 30), date(2027, 2, 28)),  # nor February a 30th
    (date(2027, 11, 30), date(2028, 2, 29)),  # leap year
    (date(2027, 11, 29), date(2028, 2, 29)),
    (date(2026, 10, 31), date(2027, 1, 31)),  # across the year
    (date(2026, 12, 31), date(2027, 3, 31)),
])
def test_calendar__due_date_is_three_calendar_months_later_clamped_to_month_end(effective, due):
    assert due_date(effective) == due


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_calendar__due_date_keeps_the_day_or_takes_the_last_day_of_the_month(effective):
    due = due_date(effective)
    months = effective.year * 12 + effective.month - 1 + 3
    assert (due.year, due.month) == (months // 12, months % 12 + 1)
    assert due.day == min(effective.day, pycal.monthrange(due.year, due.month)[1])


def test_calendar__contact_window_is_seven_days_either_side():
    assert contact_window(date(2026, 4, 15)) == (date(2026, 4, 8), date(2026, 4, 22))
    assert contact_window(date(2026, 3, 3)) == (date(2026, 2, 24), date(2026, 3, 10))


def test_calendar__contact_window_width_is_configurable():
    assert contact_window(date(2026, 4, 15), days=3) == (date(2026, 4, 12), date(2026, 4, 18))


def test_calendar__next_business_day_skips_14_july():
    assert add_business_days(date(2026, 7, 13), 1) == date(2026, 7, 15)  # Monday -> Wednesday


def test_calendar__next_business_day_skips_1_may_and_the_weekend():
    assert add_business_days(date(2026, 4, 30), 1) == date(2026, 5, 4)  # Thursday -> Monday


def test_calendar__business_days_between_counts_neither_weekend_nor_holiday():
    # (Mon 13 July, Mon 20 July]: 15, 16, 17, 20 July -- not 14 July, not the weekend.
    assert business_days_between(date(2026, 7, 13), date(2026, 7, 20)) == 4
    assert business_days_between(date(2026, 7, 13), date(2026, 7, 13)) == 0


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)), st.integers(1, 30))
def test_calendar__add_business_days_and_business_days_between_agree(start, n):
    end = add_business_days(start, n)
    assert is_business_day(end)
    assert business_days_between(start, end) == n
    assert business_days_between(start, end - timedelta(days=1)) == n - 1


def test_calendar__overseas_holidays_and_time_zones_follow_the_postal_code():
    assert is_public_holiday(date(2027, 12, 20), "97400") and not is_public_holiday(date(2027, 12, 20), "13007")
    assert add_business_days(date(2027, 12, 17), 1, "97400") == date(2027, 12, 21)
    assert add_business_days(date(2027, 12, 17), 1, "13007") == date(2027, 12, 20)
    assert client_timezone("97400") == ZoneInfo("Indian/Reunion")
    assert client_timezone("97110") == ZoneInfo("America/Guadeloupe")
    assert client_timezone("97300") == ZoneInfo("America/Cayenne")
    assert client_timezone("20000") == ZoneInfo("Europe/Paris")
    assert client_timezone(None) == ZoneInfo("Europe/Paris")


def test_calendar__month_bounds_and_previous_month():
    assert month_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert previous_month("2026-01") == "2025-12"
