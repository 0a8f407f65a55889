"""Decide what a command does to a case: pure, given the case snapshot and the time.

Returns `Effects` (what to write, what to audit, what to notify) or raises a DomainError that
says why not. The store applies the effects; nothing here touches a database.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from states import requirements
from states.commands import (
    AddAction, AddInventoryLine, AddOutcome, Command, ConfirmAssignment, CorrectClient, FireEvent,
    Reassign, RecordAttempt, SetNothingElsewhere, SetRequirement, UpdateAction,
)
from states.commands import RedactAuditRecord
from states import corrections
from states.commands import ImportClientChanges
from states.redaction import decide_redaction
from states import notes
from states.people import CLIENT_TEXT_LIMITS, parse_civility
from states import appointments, calls
from states import actions, bilan, situation
from states import joins
from states.commands import JoinContracts
from states.commands import BookAppointment, CancelAppointment, MoveAppointment
from states.effects import Effects, Insert, Row, Update
from states.errors import GuardFailed, InvalidChange
from states.guards import unmet_for
from states.lifecycle import EVENTS, State, allowed_events, next_state
from states.records import CaseSnapshot, ClientKind, RequirementStatus
from states.validators import (
    validate_email_address, validate_naf, validate_phone, validate_postal_code, validate_siret,
)


def _audit_value(v: Any) -> Any:
    if isinstance(v, (date, datetime, Decimal)):
        return v.isoformat() if not isinstance(v, Decimal) else str(v)
    if hasattr(v, "value"):
        return v.value
    return v


def _set(effects: Effects, target: str, before_obj: Any, field_name: str, value: Any) -> None:
    before = getattr(before_obj, field_name)
    if before == value:
        return
    getattr(effects, target)[field_name] = value
    effects.changes[f"{target}.{field_name}"] = [_audit_value(before), _audit_value(value)]


# ---------------------------------------------------------------- events
def _fire(case: CaseSnapshot, cmd: FireEvent, now: datetime) -> Effects:
    t = EVENTS.get(cmd.event)
    if t is None:
        raise InvalidChange({"event": f"événement inconnu '{cmd.event}' (possibles : {', '.join(EVENTS)})"})
    dest = next_state(case.state, cmd.event)  # raises EventNotAllowed from the table
    unmet = unmet_for(t.guard, case, {"reason": cmd.reason})
    if unmet:
        raise GuardFailed(cmd.event, unmet)
    fx = Effects(action=cmd.event, reason=cmd.reason)
    _set(fx, "case", case, "state", dest.value)
    if t.closing_reason:
        _set(fx, "case", case, "closing_reason", t.closing_reason.value)
        fx.case["closed_at"] = now
    if cmd.event == "envoyer_email":
        _set(fx, "case", case, "escalation_step", 1)
        fx.case["escalated_at"] = now
        fx.notifications.append("client_email")
    elif cmd.event == "envoyer_courrier":
        _set(fx, "case", case, "escalation_step", 2)
        fx.case["escalated_at"] = now
        fx.notifications.append("client_letter")
    elif dest is State.JOINT_RDV:
        fx.case["reached_at"] = now
    elif dest is State.CONTRATS_FINALISES:  # the bilan opens: its "chez nous" lines (states/bilan.py)
        bilan.prefill_into(fx, case, now)
    elif dest is State.BILAN_FAIT:
        # The bilan is the written proof of advice (DDA): one frozen, dated record, anchored in the trail.
        fx.case["bilan_at"] = now
        bilan.freeze_into(fx, case, now)
    return fx


# ---------------------------------------------------------------- client record
CORRECTABLE = (
    "last_name", "first_name", "company_name", "address", "postal_code", "city", "phone", "email",
    "marital_status", "professional_status", "siret", "naf_code", "activity", "turnover_eur", "headcount",
    "insurance_contact", "housing_status", "opposition_phone", "opposition_email", "opposition_letter",
)
CORRECTABLE += ("civility",)  # "M.", "Mme" or null (states.people)
CORRECTABLE += ("children_at_home", "vehicles", "cadres")  # the bilan's situation (states.situation)


def _normalise_client_field(name: str, value: Any, postal_code: str | None) -> tuple[Any, str | None]:
    if name.startswith("opposition_"):
        if not isinstance(value, bool):
            return None, "vrai ou faux attendu"
        return value, None
    if name in situation.FIELDS:
        return situation.normalise(name, value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None  # clearing a field is a correction too
    if name == "civility":
        civility, reason = parse_civility(str(value))
        return (civility.value if civility else None), reason
    if name == "phone":
        return validate_phone(str(value), postal_code)
    if name == "email":
        return validate_email_address(str(value))
    if name == "siret":
        return validate_siret(str(value))
    if name == "naf_code":
        return validate_naf(str(value))
    if name == "postal_code":
        return validate_postal_code(str(value))
    if name == "turnover_eur":
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            return None, f"montant invalide : {value!r}"
        return (d, None) if d >= 0 else (None, "montant négatif")
    if name == "headcount":
        try:
            n = int(value)
        except (TypeError, ValueError):
            return None, f"nombre entier attendu : {value!r}"
        return (n, None) if n >= 0 else (None, "effectif négatif")
    text = str(value).strip()
    if len(text) > CLIENT_TEXT_LIMITS.get(name, len(text)):
        return None, f"trop long ({len(text)} caractères, maximum {CLIENT_TEXT_LIMITS[name]})"
    return text, None


def _correct(case: CaseSnapshot, cmd: CorrectClient, now: datetime) -> Effects:
    if not cmd.changes:
        raise InvalidChange({"changes": "aucun champ à corriger"})
    errors: dict[str, str] = {}
    postal = cmd.changes.get("postal_code", case.client.postal_code)
    fx = Effects(action="correct_client", reason=cmd.reason)
    for name, raw in cmd.changes.items():
        if name not in CORRECTABLE:
            errors[name] = "champ inconnu ou non modifiable"
            continue
        value, reason = _normalise_client_field(name, raw, postal)
        if reason:
            errors[name] = reason
        else:
            _set(fx, "client", case.client, name, value)
    if errors:
        raise InvalidChange(errors)
    fx.updates.extend(corrections.correction_updates(case.client, fx.client, now))  # against the next import
    bilan.mark_correction(fx, case)  # a situation changed after the bilan
    return fx


def _check_advisor(case: CaseSnapshot, advisor_id: int, agency_id: str, field_name: str) -> None:
    adv = case.advisors.get(advisor_id)
    if adv is None:
        raise InvalidChange({field_name: f"chargé de clientèle {advisor_id} inconnu"})
    if not adv.active:
        raise InvalidChange({field_name: f"{adv.name} n'est plus actif"})
    if adv.agency_id != agency_id:
        raise InvalidChange({field_name: f"{adv.name} appartient à l'agence {adv.agency_id}, pas à {agency_id}"})


def _confirm(case: CaseSnapshot, cmd: ConfirmAssignment, now: datetime) -> Effects:
    _check_advisor(case, cmd.advisor_id, cmd.agency_id, "advisor_id")
    fx = Effects(action="confirm_assignment")
    _set(fx, "client", case.client, "agency_id", cmd.agency_id)
    _set(fx, "client", case.client, "advisor_id", cmd.advisor_id)
    _set(fx, "case", case, "assignment_confirmed", True)
    if case.assigned_advisor_id != cmd.advisor_id:
        _set(fx, "case", case, "assigned_advisor_id", cmd.advisor_id)
    if case.agency_id is not None:  # another agency: the case moves with its client
        _set(fx, "case", case, "agency_id", cmd.agency_id)
    fx.updates.extend(corrections.correction_updates(case.client, fx.client, now))  # they stand against the CRM
    return fx


def _reassign(case: CaseSnapshot, cmd: Reassign, now: datetime) -> Effects:
    _check_advisor(case, cmd.advisor_id, case.client.agency_id, "advisor_id")
    fx = Effects(action="reassign", reason=cmd.reason)
    _set(fx, "case", case, "assigned_advisor_id", cmd.advisor_id)
    return fx


# ---------------------------------------------------------------- contact attempts: states/calls.py


# ---------------------------------------------------------------- contracts
def _requirement(case: CaseSnapshot, cmd: SetRequirement, now: datetime) -> Effects:
    contract = next((c for c in case.contracts if c.id == cmd.contract_id), None)
    if contract is None:
        raise InvalidChange({"contract_id": f"le contrat {cmd.contract_id} n'est pas couvert par ce dossier"})
    codes = dict(requirements.required_codes(contract, case.client.kind))
    if cmd.code not in codes and cmd.code not in requirements.known_codes():
        raise InvalidChange({"code": f"pièce inconnue '{cmd.code}' (attendues : {', '.join(codes)})"})
    if cmd.status is RequirementStatus.WAIVED and not (cmd.waiver_reason or "").strip():
        raise InvalidChange({"waiver_reason": "une dispense doit être motivée"})
    before = contract.requirements.get(cmd.code)
    before_status = before.status.value if before else RequirementStatus.MISSING.value
    fx = Effects(action="set_requirement", reason=cmd.waiver_reason)
    fx.updates.append(Update(Row.REQUIREMENT, (cmd.contract_id, cmd.code), {
        "status": cmd.status.value, "waiver_reason": cmd.waiver_reason, "updated_at": now,
    }))
    fx.changes[f"contract.{cmd.contract_id}.{cmd.code}"] = [before_status, cmd.status.value]
    return fx


# ---------------------------------------------------------------- bilan: states/bilan.py, actions: states/actions.py


_HANDLERS = {
    FireEvent: _fire, CorrectClient: _correct, ConfirmAssignment: _confirm, Reassign: _reassign,
    RecordAttempt: calls.record_attempt, SetRequirement: _requirement,
    AddAction: actions.add_action, UpdateAction: actions.update_action,
}
_HANDLERS.update(bilan.HANDLERS)  # inventory, outcomes, suggestions, prefill, send (states/bilan.py)
_HANDLERS[RedactAuditRecord] = decide_redaction
_HANDLERS.update(notes.HANDLERS)  # AddNote, AddTopic, AnswerTopic
_HANDLERS.update({BookAppointment: appointments.book, MoveAppointment: appointments.move,
                  CancelAppointment: appointments.cancel})
_HANDLERS[ImportClientChanges] = corrections.decide_import
_HANDLERS[JoinContracts] = joins.join_contracts  # a new contract joins the open case (the cohort)
from states import letters, optout  # noqa: E402  (issue 8: letters posted, oppositions)
from states.commands import MarkLetterPosted, RecordOpposition  # noqa: E402
_HANDLERS.update({MarkLetterPosted: letters.mark_posted, RecordOpposition: optout.record_opposition})


def decide(case: CaseSnapshot, cmd: Command, now: datetime) -> Effects:
    if case.state == State.CLOTURE.value and not isinstance(cmd, FireEvent) \
            and not getattr(cmd, "allowed_when_closed", False) \
            and not calls.completes_pieces_on_closed_case(case, cmd):
        raise InvalidChange({"state": "dossier clôturé : plus aucune modification"})
    handler = _HANDLERS.get(type(cmd))
    if handler is None:
        raise InvalidChange({"command": f"commande inconnue {type(cmd).__name__}"})
    return handler(case, cmd, now)


def allowed_now(case: CaseSnapshot) -> dict[str, list]:
    """For each event the table allows from the case's state: its unmet guards (empty = can fire)."""
    return {e: unmet_for(EVENTS[e].guard, case, {"reason": "x"}) for e in allowed_events(case.state)}


__all__ = ["Effects", "decide", "allowed_now", "ClientKind"]
