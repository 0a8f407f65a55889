"""Corrections against the CRM: which value of a client field wins when the CRM export comes back.

The CRM export carries no timestamps, so "who changed it last" cannot be known. The rule is:
a field corrected through the write path keeps the CRM value it replaced
(`crm_value_before`). At the next import of a changed CRM row,
- the CRM still sends `crm_value_before`: the CRM has not caught up, the correction **stands**;
- the CRM sends the corrected value: the CRM agrees, the correction has done its work;
- the CRM sends anything else: the CRM has a newer value, **it is taken** and the correction is
  dropped (and the import's summary says so).
A confirmed agency and advisor (ConfirmAssignment) stand the same way, as one (`resolve_all`).

Values are compared as canonical text (`crm_text`), the form `client_correction` stores, so
the comparison does not depend on the database's number types.

Also here: the decision that records an import's changes on an open case (ImportClientChanges),
with the case's move when the client changed agency.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from states.commands import ImportClientChanges
from states.effects import Effects, Row, Update
from states.errors import InvalidChange
from states.records import CaseSnapshot, ClientRecord

# The client fields the CRM export carries (store.importer writes exactly these, besides the
# id, the kind and the derived NAF nomenclature). Only these can conflict with the CRM, so only
# these are recorded as corrections; the rest (housing status, oppositions) are ours alone.
CRM_FIELDS = (
    "last_name", "first_name", "company_name", "address", "postal_code", "city", "phone", "email",
    "marital_status", "professional_status", "siret", "naf_code", "activity", "insurance_contact",
    "turnover_eur", "headcount", "agency_id", "advisor_id",
)
# CRM columns an export may lack (store.csv_source.OPTIONAL_COLUMNS): corrected and resolved like
# the others when the export has the column; an export without it leaves the field and its
# correction alone.
OPTIONAL_CRM_FIELDS = ("civility",)
LABELS = {
    "last_name": "nom", "first_name": "prénom", "company_name": "raison sociale", "address": "adresse",
    "postal_code": "code postal", "city": "ville", "phone": "téléphone", "email": "email",
    "marital_status": "situation matrimoniale", "professional_status": "situation professionnelle",
    "siret": "SIRET", "naf_code": "code NAF", "activity": "activité", "insurance_contact": "contact assurances",
    "turnover_eur": "chiffre d'affaires", "headcount": "effectif", "agency_id": "agence",
    "advisor_id": "chargé de clientèle", "kind": "type de client", "naf_nomenclature": "nomenclature NAF",
}
LABELS["civility"] = "civilité"
_CENT = Decimal("0.01")
_INTEGERS = frozenset({"headcount", "advisor_id"})


def crm_text(field: str, value: Any) -> str | None:
    """A field's value as canonical text: '250000.00' whether the driver gave a float or a Decimal."""
    if value is None:
        return None
    if field == "turnover_eur":
        return str(Decimal(str(value)).quantize(_CENT))
    if field in _INTEGERS:
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def audit_value(field: str, value: Any) -> Any:
    """A field's value as the audit trail shows it (JSON: amounts as text, counts and ids as numbers)."""
    if value is None:
        return None
    if field == "turnover_eur":
        return crm_text(field, value)
    if field in _INTEGERS:
        return int(value)
    return value


class Resolution(StrEnum):
    STANDING = "standing"  # the CRM still sends the value it had: the corrected value is kept
    CRM_TAKEN = "crm_taken"  # the CRM sends a new value: it replaces the correction
    AGREED = "agreed"  # the CRM now sends the corrected value (or the correction undid itself)


RESOLUTION_LABELS = {Resolution.STANDING: "correction maintenue", Resolution.CRM_TAKEN: "valeur du CRM retenue"}


@dataclass(frozen=True)
class Correction:
    field: str
    crm_value_before: str | None
    corrected_value: str | None
    case_id: int | None = None  # the case whose audit trail holds the correction


def resolve(incoming: str | None, correction: Correction) -> Resolution:
    """What the import does with a corrected field whose CRM row changed (see the module doc)."""
    if correction.corrected_value == correction.crm_value_before:
        return Resolution.AGREED  # corrected back to the CRM's value: nothing to protect
    if incoming == correction.crm_value_before:
        return Resolution.STANDING
    if incoming == correction.corrected_value:
        return Resolution.AGREED
    return Resolution.CRM_TAKEN


ASSIGNMENT = ("agency_id", "advisor_id")


def resolve_all(incoming: dict[str, str | None], corrections: dict[str, Correction]) -> dict[str, Resolution]:
    """`resolve` for each corrected field, the agency and the advisor as one: a confirmed
    assignment is one decision, so when the CRM sends a new agency or a new advisor, both of the
    CRM's are taken (never a client of one agency with a standing advisor of another)."""
    out = {name: resolve(incoming.get(name), c) for name, c in corrections.items()}
    if any(out.get(name) is Resolution.CRM_TAKEN for name in ASSIGNMENT):
        for name in ASSIGNMENT:
            if out.get(name) is Resolution.STANDING:
                out[name] = Resolution.CRM_TAKEN
    return out


def correction_updates(client: ClientRecord, changed: dict[str, Any], now: datetime) -> list[Update]:
    """The corrections a change of the client's CRM fields leaves behind (Row.CORRECTION, keyed
    by field): the value replaced and the value set. The store keeps the first `crm_value_before`
    when a field is corrected again: the CRM still holds that one."""
    return [Update(Row.CORRECTION, name, {"crm_value_before": crm_text(name, getattr(client, name)),
                                          "corrected_value": crm_text(name, value), "corrected_at": now})
            for name, value in changed.items() if name in CRM_FIELDS or name in OPTIONAL_CRM_FIELDS]


def _names(fields: tuple[str, ...]) -> str:
    return ", ".join(LABELS.get(f, f) for f in fields)


def decide_import(case: CaseSnapshot, cmd: ImportClientChanges, now: datetime) -> Effects:
    """Record on an open case what a CRM import changed on its client, and move the case with
    the client when the client changed agency (to `cmd.advisor_id`, chosen by the store among
    that agency's active advisors; None leaves the case unassigned)."""
    reasons = ["import du CRM"]
    if cmd.standing:
        reasons.append(f"correction maintenue (le CRM envoie toujours l'ancienne valeur) : {_names(cmd.standing)}")
    if cmd.taken:
        reasons.append(f"nouvelle valeur du CRM retenue à la place de la correction : {_names(cmd.taken)}")
    fx = Effects(action="import_crm", reason=" ; ".join(reasons))
    for name, (before, after) in cmd.changes.items():
        fx.changes[name] = [before, after]
    if cmd.agency_id is not None and cmd.agency_id != case.agency_id:
        if cmd.advisor_id is not None:
            adv = case.advisors.get(cmd.advisor_id)
            if adv is None or not adv.active or adv.agency_id != cmd.agency_id:
                raise InvalidChange({"advisor_id": f"chargé de clientèle {cmd.advisor_id} inconnu, inactif "
                                                   f"ou d'une autre agence que {cmd.agency_id}"})
        fx.case["agency_id"] = cmd.agency_id
        fx.changes["case.agency_id"] = [case.agency_id, cmd.agency_id]
        if cmd.advisor_id != case.assigned_advisor_id:
            fx.case["assigned_advisor_id"] = cmd.advisor_id
            fx.changes["case.assigned_advisor_id"] = [case.assigned_advisor_id, cmd.advisor_id]
        if case.assignment_confirmed:  # confirmed for the agency the client has left
            fx.case["assignment_confirmed"] = False
            fx.changes["case.assignment_confirmed"] = [True, False]
    if not fx.changes:
        raise InvalidChange({"changes": "aucun changement à enregistrer"})
    return fx
