"""Every overseas postal code has its own time zone and public holidays; Alsace-Moselle its two extra days.

Expected holidays are the territories' own days (2026), as the installed `holidays` knows them.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from states.calendar import (
    PARIS, TERRITORIES, client_timezone, cohort_opens_on, cohorts_open_on, holiday_subdivision, is_business_day,
    is_public_holiday, territory,
)
from states.calling_rules import call_refusals
from states.records import ClientKind

# postal code -> (territory, time zone, a local public holiday in 2026 that mainland France does not have)
CASES = {
    "97110": ("Guadeloupe", "America/Guadeloupe", date(2026, 5, 27)),  # abolition de l'esclavage
    "97133": ("Saint-Barthélemy", "America/St_Barthelemy", date(2026, 10, 9)),
    "97150": ("Saint-Martin", "America/Marigot", date(2026, 5, 28)),
    "97200": ("Martinique", "America/Martinique", date(2026, 5, 22)),
    "97300": ("Guyane", "America/Cayenne", date(2026, 6, 10)),
    "97400": ("La Réunion", "Indian/Reunion", date(2027, 12, 20)),  # a Monday
    "97500": ("Saint-Pierre-et-Miquelon", "America/Miquelon", None),  # no day of its own in `holidays`
    "97600": ("Mayotte", "Indian/Mayotte", date(2026, 4, 27)),
    "97700": ("Saint-Barthélemy", "America/St_Barthelemy", date(2026, 10, 9)),  # its INSEE code
    "97800": ("Saint-Martin", "America/Marigot", date(2026, 5, 28)),
    "98600": ("Wallis-et-Futuna", "Pacific/Wallis", date(2026, 7, 29)),  # fête du Territoire
    "98714": ("Polynésie française", "Pacific/Tahiti", date(2026, 3, 5)),  # arrivée de l'Évangile
    "98742": ("Polynésie française (Marquises)", "Pacific/Marquesas", date(2026, 3, 5)),
    "98800": ("Nouvelle-Calédonie", "Pacific/Noumea", date(2026, 9, 24)),  # fête de la citoyenneté
}


@pytest.mark.parametrize("postal_code", list(CASES))
def test_calendar__overseas_postal_code_has_its_time_zone(postal_code):
    name, zone, _ = CASES[postal_code]
    assert territory(postal_code).name == name
    assert client_timezone(postal_code) == ZoneInfo(zone)


@pytest.mark.parametrize("postal_code", [p for p, (_, _, day) in CASES.items() if day])
def test_calendar__overseas_postal_code_has_its_holidays(postal_code):
    day = CASES[postal_code][2]
    assert is_public_holiday(day, postal_code) and not is_business_day(day, postal_code)
    assert not is_public_holiday(day, "13007") and is_business_day(day, "13007")


@pytest.mark.parametrize("postal_code", list(CASES))
def test_calendar__overseas_keep_the_national_holidays(postal_code):
    assert is_public_holiday(date(2026, 7, 14), postal_code) and is_public_holiday(date(2026, 11, 11), postal_code)


@pytest.mark.parametrize("postal_code", ["57000", "57100", "67000", "67400", "68100", "68000"])
def test_calendar__alsace_moselle_keeps_good_friday_and_26_december(postal_code):
    assert client_timezone(postal_code) is PARIS
    for day in (date(2026, 4, 3), date(2026, 12, 26), date(2027, 3, 26)):  # Vendredi saint, Saint-Étienne
        assert is_public_holiday(day, postal_code), day
    assert not is_business_day(date(2026, 4, 3), postal_code)
    assert not is_public_holiday(date(2026, 4, 3), "13007") and not is_public_holiday(date(2026, 12, 26), "75011")


@pytest.mark.parametrize("postal_code", ["13007", "75011", "20000", "5", "", None, "99999", "980000", "59000"])
def test_calendar__mainland_unknown_or_missing_codes_are_paris(postal_code):
    assert client_timezone(postal_code) is PARIS and holiday_subdivision(postal_code) is None


def test_calendar__every_subdivision_is_one_the_installed_holidays_knows():
    known = set(holidays.France.subdivisions)
    assert {t.holidays_subdiv for t in TERRITORIES.values()} <= known
    for t in TERRITORIES.values():
        ZoneInfo(t.timezone)  # every zone exists in the tz database


def test_calendar__calling_hours_are_the_clients_in_noumea():
    # 10:30 in Nouméa (UTC+11) is 23:30 UTC the evening before: fine for the client, not in Paris terms.
    at = datetime(2026, 4, 14, 23, 30, tzinfo=timezone.utc)  # Wednesday 15 April, 10:30 in Nouméa
    assert call_refusals(ClientKind.PARTICULIER, "98800", at, ()) == []
    assert call_refusals(ClientKind.PARTICULIER, "13007", at, ()) != []


def test_calendar__cohort_opens_lead_days_before_its_month():
    assert cohort_opens_on("2026-03", 10) == date(2026, 2, 19)
    assert cohort_opens_on("2027-01", 10) == date(2026, 12, 22)
    assert cohorts_open_on(date(2026, 2, 18), 10) == ["2026-02"]
    assert cohorts_open_on(date(2026, 2, 19), 10) == ["2026-02", "2026-03"]
    assert cohorts_open_on(date(2026, 12, 31), 10) == ["2026-12", "2027-01"]
    assert cohorts_open_on(date(2026, 3, 1), 10) == ["2026-03"]
    assert cohorts_open_on(date(2026, 3, 1), 0) == ["2026-03"]
