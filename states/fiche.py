"""The client-record checklist behind "fiche validée" (process document, objective 1).

particulier: address, phone, email, marital status, professional situation;
professionnel: the same plus SIRET, NAF code, exact activity, turnover, headcount;
entreprise: the same as professionnel plus the contact who manages insurance;
always: the right agency and advisor, confirmed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from states.records import ClientKind, ClientRecord
from states.validators import (
    validate_email_address, validate_naf, validate_phone, validate_postal_code, validate_siret,
    validate_text,
)

MARITAL_STATUSES = ("célibataire", "marié(e)", "pacsé(e)", "concubinage", "divorcé(e)", "veuf(ve)")


@dataclass(frozen=True)
class FicheItem:
    field: str
    label: str
    ok: bool
    reason: str | None  # why it is not ok, in French


def _number(value, label: str):
    if value is None or value == "":
        return None, f"{label} manquant"
    try:
        if float(value) < 0:
            return None, f"{label} négatif"
    except (TypeError, ValueError):
        return None, f"{label} n'est pas un nombre"
    return value, None


def _marital(value):
    if not value or not str(value).strip():
        return None, "situation matrimoniale manquante"
    return value, None


Check = Callable[[ClientRecord], tuple[object, str | None]]

_BASE: list[tuple[str, str, Check]] = [
    ("address", "Adresse", lambda c: validate_text(c.address, "adresse")),
    ("postal_code", "Code postal", lambda c: validate_postal_code(c.postal_code)),
    ("city", "Ville", lambda c: validate_text(c.city, "ville")),
    ("phone", "Téléphone", lambda c: validate_phone(c.phone, c.postal_code)),
    ("email", "Email", lambda c: validate_email_address(c.email)),
    ("marital_status", "Situation matrimoniale", lambda c: _marital(c.marital_status)),
    ("professional_status", "Situation professionnelle",
     lambda c: validate_text(c.professional_status, "situation professionnelle")),
]
_PRO: list[tuple[str, str, Check]] = [
    ("siret", "SIRET", lambda c: validate_siret(c.siret)),
    ("naf_code", "Code NAF", lambda c: validate_naf(c.naf_code)),
    ("activity", "Activité exacte", lambda c: validate_text(c.activity, "activité exacte")),
    ("turnover_eur", "Chiffre d'affaires", lambda c: _number(c.turnover_eur, "chiffre d'affaires")),
    ("headcount", "Effectif", lambda c: _number(c.headcount, "effectif")),
]
_COMPANY: list[tuple[str, str, Check]] = [
    ("insurance_contact", "Contact assurances",
     lambda c: validate_text(c.insurance_contact, "contact qui gère les assurances")),
]


def fields_for(kind: ClientKind) -> list[tuple[str, str, Check]]:
    checks = list(_BASE)
    if kind in (ClientKind.PROFESSIONNEL, ClientKind.ENTREPRISE):
        checks += _PRO
    if kind is ClientKind.ENTREPRISE:
        checks += _COMPANY
    return checks


def checklist(client: ClientRecord, assignment_confirmed: bool) -> list[FicheItem]:
    items = []
    for field, label, check in fields_for(client.kind):
        _, reason = check(client)
        items.append(FicheItem(field, label, reason is None, reason))
    items.append(FicheItem(
        "assignment", "Agence et chargé de clientèle confirmés", assignment_confirmed,
        None if assignment_confirmed else "agence et chargé de clientèle à confirmer",
    ))
    return items
