"""Calendar rules: the M+3 due date, the contact window, business days, clients' time zones."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

PARIS = ZoneInfo("Europe/Paris")
_OVERSEAS_TZ = {
    "971": ("America/Guadeloupe", "GP"),
    "972": ("America/Martinique", "MQ"),
    "973": ("America/Cayenne", "GY"),
    "974": ("Indian/Reunion", "RE"),
    "976": ("Indian/Mayotte", "YT"),
}


def due_date(effective: date, months: int = 3) -> date:
    """Effective date + 3 calendar months; a day the month lacks becomes its last day (31 Jan -> 30 Apr)."""
    return effective + relativedelta(months=months)


def contact_window(due: date, days: int = 7) -> tuple[date, date]:
    return due - timedelta(days=days), due + timedelta(days=days)


def month_bounds(month: str) -> tuple[date, date]:
    """'2026-04' -> (2026-04-01, 2026-04-30)."""
    first = date.fromisoformat(f"{month}-01")
    return first, first + relativedelta(months=1) - timedelta(days=1)


def previous_month(month: str) -> str:
    first = date.fromisoformat(f"{month}-01") - relativedelta(months=1)
    return f"{first:%Y-%m}"


def client_timezone(postal_code: str | None) -> ZoneInfo:
    if postal_code and postal_code[:3] in _OVERSEAS_TZ:
        return ZoneInfo(_OVERSEAS_TZ[postal_code[:3]][0])
    return PARIS


def holiday_subdivision(postal_code: str | None) -> str | None:
    if postal_code and postal_code[:3] in _OVERSEAS_TZ:
        return _OVERSEAS_TZ[postal_code[:3]][1]
    return None


@lru_cache(maxsize=32)
def _holidays(subdiv: str | None) -> holidays.HolidayBase:
    # Years are filled in lazily by the holidays package as dates are looked up.
    return holidays.France(subdiv=subdiv)


def is_public_holiday(day: date, postal_code: str | None = None) -> bool:
    return day in _holidays(holiday_subdivision(postal_code))


def is_business_day(day: date, postal_code: str | None = None) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day, postal_code)


def add_business_days(start: date, n: int, postal_code: str | None = None) -> date:
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_business_day(day, postal_code):
            n -= 1
    return day


def business_days_between(start: date, end: date, postal_code: str | None = None) -> int:
    """Business days in (start, end]: how many business days have passed since `start`."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day, postal_code):
            count += 1
    return count
