"""French formatting for the templates: dates written out, labels of states and action kinds.

A month table rather than babel: twelve words do not justify a dependency (and its locale data).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from states.calendar import PARIS

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
STATES = {
    "a_contacter": "À contacter", "joint_rdv": "Joint / RDV", "fiche_validee": "Fiche validée",
    "contrats_finalises": "Contrats finalisés", "bilan_fait": "Bilan fait", "actions_planifiees": "Actions planifiées",
    "email_envoye": "Email envoyé", "courrier_envoye": "Courrier envoyé", "cloture": "Clôturé",
}
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
