"""Next actions of a case: planning (AddAction) and following them up (UpdateAction).

An action always has an owner, an active advisor of the case's agency, and a due date. A devis
carries its own status (proposé -> envoyé -> signé | refusé: the conversion figure); a signed
or refused devis is finished, so its action is done in the same change unless the caller says
otherwise. `outcome_id` links an action to the bilan outcome it answers (a need's devis, a
change of situation's avenant); the link is written on the outcome (and on the suggestion's
decision when the need came from one).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from states.commands import AddAction, UpdateAction
from states.effects import Effects, Insert, Ref, Row, Update
from states.errors import InvalidChange
from states.records import (
    ActionKind, ActionStatus, CaseSnapshot, DevisStatus, OutcomeKind, OutcomeRecord,
)

DEVIS_LABELS = {DevisStatus.PROPOSE: "proposé", DevisStatus.ENVOYE: "envoyé", DevisStatus.SIGNE: "signé",
                DevisStatus.REFUSE: "refusé"}
DEVIS_FINISHED = (DevisStatus.SIGNE, DevisStatus.REFUSE)
DEVIS_SENT = (DevisStatus.ENVOYE, DevisStatus.SIGNE, DevisStatus.REFUSE)  # reached the client
# Which actions may answer which outcome (states/bilan.py checks the same).
ACTION_KINDS_FOR = {
    OutcomeKind.COMPLEMENTARY_NEED: (ActionKind.DEVIS, ActionKind.RDV, ActionKind.ENVOI, ActionKind.RELANCE),
    OutcomeKind.SITUATION_CHANGE: (ActionKind.AVENANT,),
}


def audit_value(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if hasattr(v, "value"):
        return v.value
    return v


def case_agency(case: CaseSnapshot) -> str | None:
    return case.agency_id or (case.client.agency_id if case.client is not None else None)


def check_owner(case: CaseSnapshot, owner_id: int | None, field_name: str = "owner_id") -> None:
    """The owner of an action: required, known, active, of the case's agency."""
    if owner_id is None:
        raise InvalidChange({field_name: "responsable obligatoire (un chargé de clientèle de l'agence du dossier)"})
    adv = case.advisors.get(owner_id)
    if adv is None:
        raise InvalidChange({field_name: f"responsable {owner_id} inconnu"})
    if not adv.active:
        raise InvalidChange({field_name: f"{adv.name} n'est plus actif"})
    agency = case_agency(case)
    if agency is not None and adv.agency_id != agency:
        raise InvalidChange({field_name: f"{adv.name} appartient à l'agence {adv.agency_id}, "
                                         f"pas à celle du dossier ({agency})"})


def check_link(outcome: OutcomeRecord, kind: ActionKind, field_name: str) -> None:
    allowed = ACTION_KINDS_FOR.get(outcome.kind, ())
    if kind not in allowed:
        what = ", ".join(k.value for k in allowed) or "aucune"
        raise InvalidChange({field_name: f"une action {kind.value} ne répond pas à un résultat "
                                         f"{outcome.kind.value} (possibles : {what})"})


def outcome_records(case: CaseSnapshot) -> tuple[OutcomeRecord, ...]:
    if case.outcome_records is not None:
        return case.outcome_records
    return tuple(OutcomeRecord(0, k) for k in case.outcomes or ())


def add_action(case: CaseSnapshot, cmd: AddAction, now: datetime) -> Effects:
    check_owner(case, cmd.owner_id)
    if cmd.due_date is None:
        raise InvalidChange({"due_date": "échéance obligatoire"})
    row = {"kind": cmd.kind.value, "owner_id": cmd.owner_id, "due_date": cmd.due_date,
           "label": (cmd.label or "").strip() or None, "status": ActionStatus.OPEN.value, "created_at": now}
    if cmd.kind is ActionKind.DEVIS:
        row["devis_status"] = DevisStatus.PROPOSE.value
    fx = Effects(action="add_action")
    fx.inserts.append(Insert(Row.ACTION, row, ref="action"))
    fx.changes["action"] = [None, {"id": Ref("action"),
                                   **{k: audit_value(v) for k, v in row.items() if k != "created_at"}}]
    if cmd.outcome_id is not None:
        outcome = next((o for o in outcome_records(case) if o.id == cmd.outcome_id), None)
        if outcome is None:
            raise InvalidChange({"outcome_id": f"résultat {cmd.outcome_id} inconnu dans ce dossier"})
        check_link(outcome, cmd.kind, "kind")
        if outcome.action_id is not None:
            raise InvalidChange({"outcome_id": f"le résultat n° {outcome.id} a déjà son action "
                                               f"(n° {outcome.action_id})"})
        fx.updates.append(Update(Row.OUTCOME, outcome.id, {"action_id": Ref("action")}))
        fx.changes[f"outcome.{outcome.id}.action_id"] = [None, Ref("action")]
        decision = next((d for d in case.decisions or () if d.outcome_id == outcome.id), None)
        if decision is not None:
            fx.updates.append(Update(Row.DECISION, decision.code, {"action_id": Ref("action")}))
    return fx


def update_action(case: CaseSnapshot, cmd: UpdateAction, now: datetime) -> Effects:
    action = next((a for a in case.actions if a.id == cmd.action_id), None)
    if action is None:
        raise InvalidChange({"action_id": f"action {cmd.action_id} inconnue dans ce dossier"})
    if cmd.owner_id is not None and cmd.owner_id != action.owner_id:
        check_owner(case, cmd.owner_id)
    if cmd.devis_status is not None and action.kind is not ActionKind.DEVIS:
        raise InvalidChange({"devis_status": f"seul un devis a un statut de devis (action {action.kind.value})"})
    status = cmd.status
    if (status is None and cmd.devis_status in DEVIS_FINISHED and cmd.devis_status != action.devis_status
            and action.status is ActionStatus.OPEN):
        status = ActionStatus.DONE  # a signed or refused devis is finished
    values: dict[str, Any] = {}
    fx = Effects(action="update_action")
    for name, new in (("status", status), ("owner_id", cmd.owner_id), ("due_date", cmd.due_date),
                      ("devis_status", cmd.devis_status)):
        old = getattr(action, name)
        if new is not None and new != old:
            values[name] = new.value if hasattr(new, "value") else new
            fx.changes[f"action.{action.id}.{name}"] = [audit_value(old), audit_value(new)]
    if not values:
        raise InvalidChange({"action": "rien à modifier"})
    fx.updates.append(Update(Row.ACTION, action.id, values))
    return fx
