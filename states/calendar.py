"""Calendar rules: the M+3 due date, the contact window, business days, clients' time zones and holidays."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Territory:
    """Where a postal code is: its time zone and its subdivision in `holidays.France`."""

    name: str
    timezone: str
    holidays_subdiv: str | None


METROPOLE = Territory("France métropolitaine", "Europe/Paris", None)
# Postal codes by prefix, longest prefix first wins. Overseas, from La Poste's codes: 971 is
# Guadeloupe except Saint-Barthélemy (97133) and Saint-Martin (97150), which kept Guadeloupe's
# codes when they became collectivities in 2007 (977 and 978 are their INSEE codes, accepted
# here too); 975 Saint-Pierre-et-Miquelon, 986 Wallis-et-Futuna, 987 Polynésie française (the
# Marquesas, 98740-98749, half an hour behind Tahiti), 988 Nouvelle-Calédonie. Alsace-Moselle
# (57 Moselle; 67, 68 Alsace) keeps Good Friday and 26 December. Subdivision codes are those of
# the installed `holidays` (0.109: `holidays.France.subdivisions`); a test checks each exists.
TERRITORIES: dict[str, Territory] = {
    "57": Territory("Moselle", "Europe/Paris", "57"),
    "67": Territory("Alsace (Bas-Rhin)", "Europe/Paris", "6AE"),
    "68": Territory("Alsace (Haut-Rhin)", "Europe/Paris", "6AE"),
    "971": Territory("Guadeloupe", "America/Guadeloupe", "971"),
    "97133": Territory("Saint-Barthélemy", "America/St_Barthelemy", "BL"),
    "97150": Territory("Saint-Martin", "America/Marigot", "MF"),
    "972": Territory("Martinique", "America/Martinique", "972"),
    "973": Territory("Guyane", "America/Cayenne", "973"),
    "974": Territory("La Réunion", "Indian/Reunion", "974"),
    "975": Territory("Saint-Pierre-et-Miquelon", "America/Miquelon", "PM"),
    "976": Territory("Mayotte", "Indian/Mayotte", "976"),
    "977": Territory("Saint-Barthélemy", "America/St_Barthelemy", "BL"),
    "978": Territory("Saint-Martin", "America/Marigot", "MF"),
    "986": Territory("Wallis-et-Futuna", "Pacific/Wallis", "WF"),
    "987": Territory("Polynésie française", "Pacific/Tahiti", "PF"),
    "9874": Territory("Polynésie française (Marquises)", "Pacific/Marquesas", "PF"),
    "988": Territory("Nouvelle-Calédonie", "Pacific/Noumea", "NC"),
}
_PREFIX_LENGTHS = sorted({len(p) for p in TERRITORIES}, reverse=True)


@lru_cache(maxsize=8192)  # asked several times per case by every list (a few hundred cases, few codes)
def territory(postal_code: str | None) -> Territory:
    """The territory of a postal code (metropolitan France when unknown or absent)."""
    code = (postal_code or "").strip()
    for n in _PREFIX_LENGTHS:
        t = TERRITORIES.get(code[:n]) if len(code) >= n else None
        if t is not None:
            return t
    return METROPOLE


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


def next_month(month: str) -> str:
    first = date.fromisoformat(f"{month}-01") + relativedelta(months=1)
    return f"{first:%Y-%m}"


def cohort_opens_on(month: str, lead_days: int) -> date:
    """The day the cohort of `month` opens: `lead_days` before the month starts, so that the
    window of a case due on the 1st (which opens 7 days before it) can be used whole."""
    return month_bounds(month)[0] - timedelta(days=lead_days)


def cohorts_open_on(today: date, lead_days: int) -> list[str]:
    """The cohorts a run on `today` opens: this month's, and next month's once within its lead."""
    month = f"{today:%Y-%m}"
    months = [month]
    following = next_month(month)
    if today >= cohort_opens_on(following, lead_days):
        months.append(following)
    return months


def client_timezone(postal_code: str | None) -> ZoneInfo:
    return _zone(territory(postal_code).timezone)


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return PARIS if name == "Europe/Paris" else ZoneInfo(name)


def holiday_subdivision(postal_code: str | None) -> str | None:
    return territory(postal_code).holidays_subdiv


@lru_cache(maxsize=32)
def _holidays(subdiv: str | None) -> holidays.HolidayBase:
    # Years are filled in lazily by the holidays package as dates are looked up.
    return holidays.France(subdiv=subdiv)


def is_public_holiday(day: date, postal_code: str | None = None) -> bool:
    return _is_holiday(day, holiday_subdivision(postal_code))


@lru_cache(maxsize=4096)  # a list asks it of the same day for each case
def _is_holiday(day: date, subdiv: str | None) -> bool:
    return day in _holidays(subdiv)


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
