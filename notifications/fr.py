"""French formatting for the templates: dates written out, labels of states and action kinds.

A month table rather than babel: twelve words do not justify a dependency (and its locale data).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from states.calendar import PARIS
from states.lifecycle import STATE_LABELS

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
STATES = {state.value: label for state, label in STATE_LABELS.items()}  # one place: states.lifecycle
ACTION_KINDS = {"devis": "Devis", "rdv": "Rendez-vous", "envoi": "Envoi de documents", "relance": "Relance"}


def as_date(value: Any) -> date | None:
    """A date from a date, an aware datetime (taken in Paris) or an ISO string; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return (value.astimezone(PARIS) if value.tzinfo else value).date()
    return value


def date_long(value: Any) -> str:
    """'1er mai 2026', '21 novembre 2026'."""
    d = as_date(value)
    if d is None:
        return ""
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS[d.month - 1]} {d.year}"


def date_short(value: Any) -> str:
    """'21/11/2026'."""
    d = as_date(value)
    return "" if d is None else f"{d:%d/%m/%Y}"


def state_label(value: str | None) -> str:
    return STATES.get(value or "", value or "")


def action_label(value: str | None) -> str:
    return ACTION_KINDS.get(value or "", value or "")


DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
APPOINTMENT_CHANNELS = {"phone": "par téléphone", "agency": "à l'agence", "video": "en visioconférence"}


def local_datetime(value: Any, tz: Any = PARIS) -> datetime | None:
    """An aware datetime (or its ISO string) in `tz` (a zone or its name); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(tz, str):
        from zoneinfo import ZoneInfo
        tz = ZoneInfo(tz)
    return value.astimezone(tz)


def datetime_long(value: Any, tz: Any = PARIS) -> str:
    """'samedi 21 novembre 2026 à 08 h 30', in `tz` (the client's zone for a client's message)."""
    at = local_datetime(value, tz)
    if at is None:
        return ""
    return f"{DAYS[at.weekday()]} {date_long(at.date())} à {at:%H} h {at:%M}"


def datetime_short(value: Any, tz: Any = PARIS) -> str:
    """'sam. 21/11/2026 08:30'."""
    at = local_datetime(value, tz)
    return "" if at is None else f"{DAYS[at.weekday()][:3]}. {at:%d/%m/%Y %H:%M}"


def time_short(value: Any, tz: Any = PARIS) -> str:
    """'08:30'."""
    at = local_datetime(value, tz)
    return "" if at is None else f"{at:%H:%M}"
