"""Decide what a command does to a case: pure, given the case snapshot and the time.

Returns `Effects` (what to write, what to audit, what to notify) or raises a DomainError that
says why not. The store applies the effects; nothing here touches a database.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from states import requirements
from states.calling_rules import call_refusals
from states.commands import (
    AddAction, AddInventoryLine, AddOutcome, Command, ConfirmAssignment, CorrectClient, FireEvent,
    Reassign, RecordAttempt, SetNothingElsewhere, SetRequirement, UpdateAction,
)
from states.commands import RedactAuditRecord
from states.redaction import decide_redaction
from states.effects import Effects, Insert, Row, Update
from states.errors import CallingRulesViolation, GuardFailed, InvalidChange
from states.guards import unmet_for
from states.lifecycle import EVENTS, UNREACHED_STATES, State, allowed_events, next_state
from states.records import (
    AttemptOutcome, CaseSnapshot, Channel, ClientKind, REACHED_OUTCOMES, RequirementStatus,
)
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
    elif dest is State.BILAN_FAIT:
        # The bilan is the written proof of advice (DDA): freeze what it found in the trail.
        fx.case["bilan_at"] = now
        fx.changes["bilan"] = [None, {
            "inventory": [{"family": line.family.value, "product": line.product, "held": line.held.value,
                           "insurer": line.insurer, "renewal_date": _audit_value(line.renewal_date)}
                          for line in case.inventory],
            "nothing_elsewhere": case.nothing_elsewhere,
            "outcomes": [o.value for o in case.outcomes],
        }]
    return fx


# ---------------------------------------------------------------- client record
CORRECTABLE = (
    "last_name", "first_name", "company_name", "address", "postal_code", "city", "phone", "email",
    "marital_status", "professional_status", "siret", "naf_code", "activity", "turnover_eur", "headcount",
    "insurance_contact", "housing_status", "opposition_phone", "opposition_email", "opposition_letter",
)


def _normalise_client_field(name: str, value: Any, postal_code: str | None) -> tuple[Any, str | None]:
    if name.startswith("opposition_"):
        if not isinstance(value, bool):
            return None, "vrai ou faux attendu"
        return value, None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None  # clearing a field is a correction too
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
    return str(value).strip(), None


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
    return fx


def _reassign(case: CaseSnapshot, cmd: Reassign, now: datetime) -> Effects:
    _check_advisor(case, cmd.advisor_id, case.client.agency_id, "advisor_id")
    fx = Effects(action="reassign", reason=cmd.reason)
    _set(fx, "case", case, "assigned_advisor_id", cmd.advisor_id)
    return fx


# ---------------------------------------------------------------- contact attempts
def _attempt(case: CaseSnapshot, cmd: RecordAttempt, now: datetime) -> Effects:
    if cmd.at.tzinfo is None:
        raise InvalidChange({"at": "heure sans fuseau horaire"})
    if cmd.at > now:
        raise InvalidChange({"at": "une tentative ne peut pas être dans le futur"})
    if cmd.advisor_id is not None and cmd.advisor_id not in case.advisors:
        raise InvalidChange({"advisor_id": f"chargé de clientèle {cmd.advisor_id} inconnu"})
    if cmd.channel is Channel.PHONE:
        if case.client.opposition_phone:
            raise CallingRulesViolation(["le client s'est opposé au démarchage téléphonique"])
        refusals = call_refusals(case.client.kind, case.client.postal_code, cmd.at, case.attempts)
        if refusals:
            raise CallingRulesViolation(refusals)
    elif cmd.outcome not in (AttemptOutcome.SENT, AttemptOutcome.REPLIED):
        raise InvalidChange({"outcome": f"un {cmd.channel.value} est « sent » ou « replied »"})
    fx = Effects(action="record_attempt")
    fx.inserts.append(Insert(Row.ATTEMPT, {
        "channel": cmd.channel.value, "at": cmd.at, "outcome": cmd.outcome.value, "advisor_id": cmd.advisor_id,
    }))
    fx.changes["attempt"] = [None, {"channel": cmd.channel.value, "at": cmd.at.isoformat(),
                                    "outcome": cmd.outcome.value, "advisor_id": cmd.advisor_id}]
    # A reply stops the escalation: the case moves to joint/RDV in the same change.
    if cmd.outcome in REACHED_OUTCOMES and case.state in UNREACHED_STATES:
        event = "prendre_rdv" if cmd.outcome is AttemptOutcome.APPOINTMENT else "joindre"
        _set(fx, "case", case, "state", next_state(case.state, event).value)
        fx.case["reached_at"] = now
    return fx


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


# ---------------------------------------------------------------- bilan
def _inventory(case: CaseSnapshot, cmd: AddInventoryLine, now: datetime) -> Effects:
    if not cmd.product.strip():
        raise InvalidChange({"product": "produit manquant"})
    row = {"family": cmd.family.value, "product": cmd.product.strip(), "held": cmd.held.value,
           "insurer": cmd.insurer, "renewal_date": cmd.renewal_date, "created_at": now}
    fx = Effects(action="add_inventory_line")
    fx.inserts.append(Insert(Row.INVENTORY, row))
    fx.changes["inventory"] = [None, {k: _audit_value(v) for k, v in row.items() if k != "created_at"}]
    return fx


def _nothing_elsewhere(case: CaseSnapshot, cmd: SetNothingElsewhere, now: datetime) -> Effects:
    fx = Effects(action="set_nothing_elsewhere")
    _set(fx, "case", case, "nothing_elsewhere", cmd.value)
    return fx


def _outcome(case: CaseSnapshot, cmd: AddOutcome, now: datetime) -> Effects:
    fx = Effects(action="add_outcome")
    fx.inserts.append(Insert(Row.OUTCOME, {"kind": cmd.kind.value, "detail": cmd.detail, "created_at": now}))
    fx.changes["outcome"] = [None, {"kind": cmd.kind.value, "detail": cmd.detail}]
    return fx


def _add_action(case: CaseSnapshot, cmd: AddAction, now: datetime) -> Effects:
    if cmd.owner_id is not None:
        adv = case.advisors.get(cmd.owner_id)
        if adv is None or not adv.active:
            raise InvalidChange({"owner_id": f"responsable {cmd.owner_id} inconnu ou inactif"})
    row = {"kind": cmd.kind.value, "owner_id": cmd.owner_id, "due_date": cmd.due_date,
           "label": cmd.label, "status": "open", "created_at": now}
    fx = Effects(action="add_action")
    fx.inserts.append(Insert(Row.ACTION, row))
    fx.changes["action"] = [None, {k: _audit_value(v) for k, v in row.items() if k != "created_at"}]
    return fx


def _update_action(case: CaseSnapshot, cmd: UpdateAction, now: datetime) -> Effects:
    action = next((a for a in case.actions if a.id == cmd.action_id), None)
    if action is None:
        raise InvalidChange({"action_id": f"action {cmd.action_id} inconnue dans ce dossier"})
    if cmd.owner_id is not None:
        adv = case.advisors.get(cmd.owner_id)
        if adv is None or not adv.active:
            raise InvalidChange({"owner_id": f"responsable {cmd.owner_id} inconnu ou inactif"})
    values: dict[str, Any] = {}
    fx = Effects(action="update_action")
    for name in ("status", "owner_id", "due_date"):
        new = getattr(cmd, name)
        if new is not None and new != getattr(action, name):
            values[name] = new.value if hasattr(new, "value") else new
            fx.changes[f"action.{action.id}.{name}"] = [_audit_value(getattr(action, name)), _audit_value(new)]
    if not values:
        raise InvalidChange({"action": "rien à modifier"})
    fx.updates.append(Update(Row.ACTION, action.id, values))
    return fx


_HANDLERS = {
    FireEvent: _fire, CorrectClient: _correct, ConfirmAssignment: _confirm, Reassign: _reassign,
    RecordAttempt: _attempt, SetRequirement: _requirement, AddInventoryLine: _inventory,
    SetNothingElsewhere: _nothing_elsewhere, AddOutcome: _outcome, AddAction: _add_action,
    UpdateAction: _update_action,
}
_HANDLERS[RedactAuditRecord] = decide_redaction


def decide(case: CaseSnapshot, cmd: Command, now: datetime) -> Effects:
    if case.state == State.CLOTURE.value and not isinstance(cmd, FireEvent) \
            and not getattr(cmd, "allowed_when_closed", False):
        raise InvalidChange({"state": "dossier clôturé : plus aucune modification"})
    handler = _HANDLERS.get(type(cmd))
    if handler is None:
        raise InvalidChange({"command": f"commande inconnue {type(cmd).__name__}"})
    return handler(case, cmd, now)


def allowed_now(case: CaseSnapshot) -> dict[str, list]:
    """For each event the table allows from the case's state: its unmet guards (empty = can fire)."""
    return {e: unmet_for(EVENTS[e].guard, case, {"reason": "x"}) for e in allowed_events(case.state)}


__all__ = ["Effects", "decide", "allowed_now", "ClientKind"]
