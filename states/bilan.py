"""The bilan global: inventory, gap suggestions and the advisor's decisions, outcomes and their
links, and the frozen record made when the bilan is done (the DDA proof). See docs/bilan.md.

- The inventory opens with the client's active contracts with us ("chez nous"), added by
  finaliser_contrats (and PrefillInventory later), never twice for one contract.
- The suggestions come from states.gaps; the advisor accepts one (a need, optionally its devis
  in the same change) or dismisses it with a reason.
- terminer_bilan freezes one dated record (Row.BILAN_RECORD) whose content and sha256 are also
  written in the audit record of the change, so the hash chain anchors it. A record is never
  updated; only its sending marks (sent_at, sent_to) are set by SendBilan.
- Any change to the inventory, the outcomes or the suggestions once the bilan is done is audited
  with "after_bilan": [null, true].
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from states import gaps
from states.actions import DEVIS_LABELS, audit_value, check_link, check_owner, outcome_records
from states.commands import (
    AcceptSuggestion, AddInventoryLine, AddOutcome, DismissSuggestion, PrefillInventory, SendBilan,
    SetNothingElsewhere, UpdateOutcome,
)
from states.effects import ACTOR, AUDIT_SEQ, Effects, Insert, Notify, Ref, Row, Update
from states.errors import InvalidChange
from states.lifecycle import State
from states.records import (
    ActionKind, ActionStatus, CaseSnapshot, ClientDecision, DecisionRecord, DevisStatus, Held, OutcomeKind,
    OutcomeRecord, SuggestionDecision,
)
from states.situation import FIELDS as SITUATION_FIELDS, HOUSING, Situation
from states.validators import validate_email_address

AFTER_BILAN_STATES = (State.BILAN_FAIT.value, State.ACTIONS_PLANIFIEES.value)
# Outcomes on which the client decides (DDA: "the client's decision, refusals included").
DECISION_KINDS = (OutcomeKind.COMPLEMENTARY_NEED, OutcomeKind.SITUATION_CHANGE)
OUTCOME_LABELS = {OutcomeKind.SATISFIED: "Satisfait, sans besoin", OutcomeKind.COMPLEMENTARY_NEED: "Besoin complémentaire",
                  OutcomeKind.TECHNICAL_QUESTION: "Question technique",
                  OutcomeKind.SITUATION_CHANGE: "Changement de situation"}
CLIENT_DECISION_LABELS = {ClientDecision.ACCEPTED: "accepté", ClientDecision.REFUSED: "refusé",
                          ClientDecision.TO_THINK: "à réfléchir"}
DECISION_LABELS = {SuggestionDecision.ACCEPTED: "retenue", SuggestionDecision.DISMISSED: "écartée"}
TEXT_MAX = 2000


def after_bilan(case: CaseSnapshot) -> bool:
    return case.state in AFTER_BILAN_STATES


def _mark(fx: Effects, case: CaseSnapshot) -> Effects:
    if after_bilan(case):
        fx.changes["after_bilan"] = [None, True]
    return fx


def mark_correction(fx: Effects, case: CaseSnapshot) -> None:
    """A client correction after the bilan that touches what the rules read is audited as such."""
    read = (*SITUATION_FIELDS, "headcount", "marital_status", "professional_status")
    if after_bilan(case) and any(f"client.{name}" in fx.changes for name in read):
        fx.changes["after_bilan"] = [None, True]


def _text(value: str | None, field_name: str) -> str | None:
    text = (value or "").strip() or None
    if text is not None and len(text) > TEXT_MAX:
        raise InvalidChange({field_name: f"au plus {TEXT_MAX} caractères"})
    return text


def situation(case: CaseSnapshot) -> Situation:
    return Situation.of(case.client, gaps.rules().readings)


def current_suggestions(case: CaseSnapshot) -> list[gaps.Suggestion]:
    return gaps.suggestions(situation(case), case.inventory or ())


# ---------------------------------------------------------------- inventory
def prefill_lines(case: CaseSnapshot, now: datetime) -> tuple[list[Insert], list[dict[str, Any]]]:
    """A chez nous line per active contract of the client that has none yet (by contract id)."""
    have = {line.contract_id for line in case.inventory or () if line.contract_id}
    inserts, audit = [], []
    for k in sorted(case.client_contracts or (), key=lambda k: (k.effective_date, k.id)):  # oldest first
        if not k.active or k.id in have:
            continue
        inserts.append(Insert(Row.INVENTORY, {"family": k.family.value, "product": k.product,
                                              "held": Held.CHEZ_NOUS.value, "insurer": None, "renewal_date": None,
                                              "contract_id": k.id, "created_at": now}))
        audit.append({"contract_id": k.id, "family": k.family.value, "product": k.product})
    return inserts, audit


def prefill_into(fx: Effects, case: CaseSnapshot, now: datetime) -> None:
    inserts, audit = prefill_lines(case, now)
    if inserts:
        fx.inserts.extend(inserts)
        fx.changes["inventory_prefill"] = [None, audit]


def prefill(case: CaseSnapshot, cmd: PrefillInventory, now: datetime) -> Effects:
    fx = Effects(action="prefill_inventory")
    prefill_into(fx, case, now)
    if not fx.inserts:
        raise InvalidChange({"inventory": "inventaire déjà à jour : chaque contrat actif du client y figure"})
    return _mark(fx, case)


def add_line(case: CaseSnapshot, cmd: AddInventoryLine, now: datetime) -> Effects:
    if not cmd.product.strip():
        raise InvalidChange({"product": "produit manquant"})
    row = {"family": cmd.family.value, "product": cmd.product.strip(), "held": cmd.held.value,
           "insurer": (cmd.insurer or "").strip() or None, "renewal_date": cmd.renewal_date, "created_at": now}
    fx = Effects(action="add_inventory_line")
    fx.inserts.append(Insert(Row.INVENTORY, row))
    fx.changes["inventory"] = [None, {k: audit_value(v) for k, v in row.items() if k != "created_at"}]
    return _mark(fx, case)


def nothing_elsewhere(case: CaseSnapshot, cmd: SetNothingElsewhere, now: datetime) -> Effects:
    fx = Effects(action="set_nothing_elsewhere")
    if case.nothing_elsewhere != cmd.value:
        fx.case["nothing_elsewhere"] = cmd.value
        fx.changes["case.nothing_elsewhere"] = [case.nothing_elsewhere, cmd.value]
    return _mark(fx, case)


# ---------------------------------------------------------------- outcomes
_LINKS = ("action_id", "topic_id", "correction_seq")


def _check_outcome(case: CaseSnapshot, o: OutcomeRecord, links: tuple[str, ...] = _LINKS) -> None:
    """Every rule an outcome must meet, once its fields are merged (creation or update); the
    targets of the `links` given (new ones) are checked against the case."""
    errors: dict[str, str] = {}
    if o.kind is OutcomeKind.TECHNICAL_QUESTION and not o.answer:
        errors["answer"] = "une question technique porte sa réponse"
    if o.kind is not OutcomeKind.TECHNICAL_QUESTION:
        if o.answer:
            errors["answer"] = "seule une question technique porte une réponse"
        if o.topic_id is not None:
            errors["topic_id"] = "seule une question technique répond à une question du client"
    if o.kind is OutcomeKind.COMPLEMENTARY_NEED and not (o.detail or o.suggestion_code):
        errors["detail"] = "un besoin complémentaire porte son détail ou la suggestion dont il vient"
    if o.suggestion_code is not None and o.kind is not OutcomeKind.COMPLEMENTARY_NEED:
        errors["suggestion_code"] = "seul un besoin complémentaire vient d'une suggestion"
    if o.client_decision is not None and o.kind not in DECISION_KINDS:
        errors["client_decision"] = "la décision du client porte sur un besoin ou un changement de situation"
    if o.correction_seq is not None:
        if o.kind is not OutcomeKind.SITUATION_CHANGE:
            errors["correction_seq"] = "seul un changement de situation renvoie à une correction de la fiche"
        elif "correction_seq" in links and o.correction_seq not in (case.correction_seqs or ()):
            errors["correction_seq"] = f"l'enregistrement n° {o.correction_seq} du journal n'est pas une " \
                                       "correction de la fiche de ce dossier"
    if o.topic_id is not None and o.kind is OutcomeKind.TECHNICAL_QUESTION and "topic_id" in links \
            and o.topic_id not in {t.id for t in case.topics or ()}:
        errors["topic_id"] = f"question ou sinistre {o.topic_id} inconnu dans ce dossier"
    if o.action_id is not None and "action_id" in links:
        action = next((a for a in case.actions or () if a.id == o.action_id), None)
        if action is None:
            errors["action_id"] = f"action {o.action_id} inconnue dans ce dossier"
        else:
            try:
                check_link(o, action.kind, "action_id")
            except InvalidChange as exc:
                errors.update(exc.errors)
    if errors:
        raise InvalidChange(errors)


def _outcome_audit(o: dict[str, Any]) -> dict[str, Any]:
    return {k: audit_value(v) for k, v in o.items() if k != "created_at" and v is not None}


def add_outcome(case: CaseSnapshot, cmd: AddOutcome, now: datetime) -> Effects:
    if cmd.suggestion_code is not None:  # a need from a suggestion is the suggestion accepted
        if cmd.kind is not OutcomeKind.COMPLEMENTARY_NEED:
            raise InvalidChange({"suggestion_code": "seul un besoin complémentaire vient d'une suggestion"})
        if cmd.action_id is not None:
            raise InvalidChange({"action_id": "le devis d'une suggestion retenue se planifie avec elle"})
        return accept(case, AcceptSuggestion(cmd.suggestion_code, cmd.detail, cmd.client_decision), now)
    o = OutcomeRecord(0, cmd.kind, _text(cmd.detail, "detail"), None, cmd.client_decision,
                      _text(cmd.answer, "answer"), cmd.topic_id, cmd.action_id, cmd.correction_seq)
    _check_outcome(case, o)
    row = {"kind": o.kind.value, "detail": o.detail, "client_decision": audit_value(o.client_decision),
           "answer": o.answer, "topic_id": o.topic_id, "action_id": o.action_id,
           "correction_seq": o.correction_seq, "created_at": now}
    fx = Effects(action="add_outcome")
    fx.inserts.append(Insert(Row.OUTCOME, row))
    fx.changes["outcome"] = [None, {"kind": o.kind.value, "detail": o.detail,
                                    **_outcome_audit({k: v for k, v in row.items() if k not in ("kind", "detail")})}]
    return _mark(fx, case)


def update_outcome(case: CaseSnapshot, cmd: UpdateOutcome, now: datetime) -> Effects:
    old = next((o for o in outcome_records(case) if o.id == cmd.outcome_id), None)
    if old is None:
        raise InvalidChange({"outcome_id": f"résultat {cmd.outcome_id} inconnu dans ce dossier"})
    new = {"client_decision": cmd.client_decision, "detail": _text(cmd.detail, "detail"),
           "answer": _text(cmd.answer, "answer"), "topic_id": cmd.topic_id, "action_id": cmd.action_id,
           "correction_seq": cmd.correction_seq}
    values = {k: v for k, v in new.items() if v is not None and v != getattr(old, k)}
    if not values:
        raise InvalidChange({"outcome": "rien à modifier"})
    merged = OutcomeRecord(**{**{f: getattr(old, f) for f in OutcomeRecord.__dataclass_fields__}, **values})
    _check_outcome(case, merged, tuple(k for k in _LINKS if k in values))
    fx = Effects(action="update_outcome")
    fx.updates.append(Update(Row.OUTCOME, old.id, {k: audit_value(v) for k, v in values.items()}))
    for k, v in values.items():
        fx.changes[f"outcome.{old.id}.{k}"] = [audit_value(getattr(old, k)), audit_value(v)]
    if "action_id" in values and old.suggestion_code:
        decision = next((d for d in case.decisions or () if d.outcome_id == old.id), None)
        if decision is not None:
            fx.updates.append(Update(Row.DECISION, decision.code, {"action_id": values["action_id"]}))
    return _mark(fx, case)


# ---------------------------------------------------------------- suggestions
def _decision(case: CaseSnapshot, code: str) -> DecisionRecord | None:
    return next((d for d in case.decisions or () if d.code == code), None)


def _suggestion(case: CaseSnapshot, code: str) -> gaps.Suggestion:
    found = next((s for s in current_suggestions(case) if s.code == code), None)
    if found is None:
        if code not in gaps.codes():
            raise InvalidChange({"code": f"suggestion inconnue '{code}' (connues : {', '.join(gaps.codes())})"})
        raise InvalidChange({"code": f"la suggestion '{code}' ne s'applique plus à ce dossier "
                                     "(déjà couverte, ou la situation a changé)"})
    return found


def _decision_view(d: DecisionRecord | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"decision": d.decision.value, "decision_label": DECISION_LABELS[d.decision], "reason": d.reason,
            "outcome_id": d.outcome_id, "action_id": d.action_id, "at": audit_value(d.at)}


def accept(case: CaseSnapshot, cmd: AcceptSuggestion, now: datetime) -> Effects:
    prior = _decision(case, cmd.code)
    if prior is not None and prior.decision is SuggestionDecision.ACCEPTED:
        raise InvalidChange({"code": f"suggestion '{cmd.code}' déjà retenue (besoin n° {prior.outcome_id})"})
    s = _suggestion(case, cmd.code)
    detail = _text(cmd.detail, "detail") or f"{s.product} : {s.reason}"
    fx = Effects(action="accept_suggestion")
    action_ref = None
    if cmd.create_devis is not None:
        check_owner(case, cmd.create_devis.owner_id, "create_devis.owner_id")
        if cmd.create_devis.due_date is None:
            raise InvalidChange({"create_devis.due_date": "échéance obligatoire"})
        row = {"kind": ActionKind.DEVIS.value, "owner_id": cmd.create_devis.owner_id,
               "due_date": cmd.create_devis.due_date,
               "label": _text(cmd.create_devis.label, "create_devis.label") or f"Devis {s.product}",
               "status": ActionStatus.OPEN.value, "devis_status": DevisStatus.PROPOSE.value, "created_at": now}
        fx.inserts.append(Insert(Row.ACTION, row, ref="action"))
        fx.changes["action"] = [None, {"id": Ref("action"),
                                       **{k: audit_value(v) for k, v in row.items() if k != "created_at"}}]
        action_ref = Ref("action")
    outcome = {"kind": OutcomeKind.COMPLEMENTARY_NEED.value, "detail": detail, "suggestion_code": s.code,
               "client_decision": audit_value(cmd.client_decision), "action_id": action_ref, "created_at": now}
    fx.inserts.append(Insert(Row.OUTCOME, outcome, ref="outcome"))
    fx.changes["outcome"] = [None, {"id": Ref("outcome"), **_outcome_audit(outcome)}]
    decision = {"decision": SuggestionDecision.ACCEPTED.value, "reason": None, "outcome_id": Ref("outcome"),
                "action_id": action_ref, "at": now}
    if prior is None:
        fx.inserts.append(Insert(Row.DECISION, {"code": s.code, **decision}))
    else:  # a suggestion set aside earlier, taken up after all
        fx.updates.append(Update(Row.DECISION, s.code, decision))
    fx.changes[f"suggestion.{s.code}"] = [
        None if prior is None else {"decision": prior.decision.value, "reason": prior.reason},
        {"decision": SuggestionDecision.ACCEPTED.value, "product": s.product, "status": s.status.value,
         "reasons": list(s.reasons)}]
    return _mark(fx, case)


def dismiss(case: CaseSnapshot, cmd: DismissSuggestion, now: datetime) -> Effects:
    reason = _text(cmd.reason, "reason")
    if not reason:
        raise InvalidChange({"reason": "écarter une suggestion demande un motif"})
    prior = _decision(case, cmd.code)
    if prior is not None:
        what = "retenue : changez plutôt la décision du client sur le besoin" \
            if prior.decision is SuggestionDecision.ACCEPTED else "écartée"
        raise InvalidChange({"code": f"suggestion '{cmd.code}' déjà {what}"})
    s = _suggestion(case, cmd.code)
    fx = Effects(action="dismiss_suggestion", reason=reason)
    fx.inserts.append(Insert(Row.DECISION, {"code": s.code, "decision": SuggestionDecision.DISMISSED.value,
                                            "reason": reason, "outcome_id": None, "action_id": None, "at": now}))
    fx.changes[f"suggestion.{s.code}"] = [None, {"decision": SuggestionDecision.DISMISSED.value, "reason": reason,
                                                 "product": s.product, "status": s.status.value,
                                                 "reasons": list(s.reasons)}]
    return _mark(fx, case)


def suggestions_view(case: CaseSnapshot) -> list[dict[str, Any]]:
    """Every suggestion that applies now, with its decision, then decided ones that no longer
    apply (covered since, or the situation changed): the page and the frozen record show both."""
    decisions = {d.code: d for d in case.decisions or ()}
    outcomes = {o.id: o for o in outcome_records(case)}
    out = []
    for s in current_suggestions(case):
        out.append({**s.as_dict(), "decision": _decision_view(decisions.pop(s.code, None))})
    table = gaps.rules().suggestions
    for code, d in decisions.items():
        t = table.get(code, {})
        out.append({"code": code, "family": t.get("family"), "product": t.get("product", code), "status": None,
                    "status_label": "ne s'applique plus", "reason": "", "reasons": [], "questions": [],
                    "decision": _decision_view(d)})
    for item in out:
        d = item["decision"]
        o = outcomes.get(d["outcome_id"]) if d and d["outcome_id"] else None
        item["client_decision"] = o.client_decision.value if o and o.client_decision else None
    return out


# ---------------------------------------------------------------- the frozen record
def _action_view(case: CaseSnapshot, action_id: int | None) -> dict[str, Any] | None:
    a = next((a for a in case.actions or () if a.id == action_id), None) if action_id else None
    if a is None:
        return None
    return {"id": a.id, "kind": a.kind.value, "label": a.label, "status": a.status.value,
            "devis_status": a.devis_status.value if a.devis_status else None,
            "devis_status_label": DEVIS_LABELS.get(a.devis_status) if a.devis_status else None,
            "owner_id": a.owner_id, "due_date": audit_value(a.due_date)}


def record_content(case: CaseSnapshot, seq: int, now: datetime) -> dict[str, Any]:
    """What the bilan found and decided, JSON-ready: the record's content and the PDF's source."""
    client = case.client
    adv = case.advisors.get(case.assigned_advisor_id) if case.assigned_advisor_id else None
    sit = situation(case)
    lines = [{"family": line.family.value, "product": line.product, "insurer": line.insurer,
              "renewal_date": audit_value(line.renewal_date), "contract_id": line.contract_id}
             for line in case.inventory or ()]
    held = [line.held for line in case.inventory or ()]
    outcomes = []
    for o in outcome_records(case):
        outcomes.append({
            "id": o.id, "kind": o.kind.value, "kind_label": OUTCOME_LABELS[o.kind], "detail": o.detail,
            "suggestion_code": o.suggestion_code,
            "client_decision": o.client_decision.value if o.client_decision else None,
            "client_decision_label": CLIENT_DECISION_LABELS.get(o.client_decision) if o.client_decision else None,
            "answer": o.answer, "topic_id": o.topic_id, "correction_seq": o.correction_seq,
            "action": _action_view(case, o.action_id)})
    return {
        "seq": seq, "made_at": now.isoformat(), "case_id": case.id, "agency_id": case.agency_id or client.agency_id,
        "client": {"id": client.id, "kind": client.kind.value, "display_name": client.display_name,
                   "civility": client.civility, "email": client.email},
        "advisor": {"id": adv.id, "name": adv.name} if adv else None,
        "situation": {**sit.as_dict(), "housing_label": HOUSING.get(sit.housing) if sit.housing else None},
        "inventory": {"chez_nous": [ln for ln, h in zip(lines, held) if h is Held.CHEZ_NOUS],
                      "ailleurs": [ln for ln, h in zip(lines, held) if h is Held.AILLEURS]},
        "nothing_elsewhere": case.nothing_elsewhere,
        "needs": [o for o in outcomes if o["kind"] == OutcomeKind.COMPLEMENTARY_NEED.value],
        "situation_changes": [o for o in outcomes if o["kind"] == OutcomeKind.SITUATION_CHANGE.value],
        "questions": [o for o in outcomes if o["kind"] == OutcomeKind.TECHNICAL_QUESTION.value],
        "satisfied": any(o["kind"] == OutcomeKind.SATISFIED.value for o in outcomes),
        "advice": suggestions_view(case),
    }


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def freeze_into(fx: Effects, case: CaseSnapshot, now: datetime) -> None:
    """terminer_bilan: one new dated record (the case's next seq), anchored in the audit chain."""
    seq = (case.bilan_count or 0) + 1
    content = record_content(case, seq, now)
    digest = content_hash(content)
    fx.inserts.append(Insert(Row.BILAN_RECORD, {"seq": seq, "made_at": now, "actor": ACTOR, "audit_seq": AUDIT_SEQ,
                                                "content": content, "content_sha256": digest}))
    fx.changes["bilan"] = [None, content]
    fx.changes["bilan_record"] = [None, {"seq": seq, "sha256": digest}]


def send(case: CaseSnapshot, cmd: SendBilan, now: datetime) -> Effects:
    if not 1 <= cmd.seq <= (case.bilan_count or 0):
        raise InvalidChange({"seq": f"bilan n° {cmd.seq} introuvable dans ce dossier"})
    to = (cmd.to or "").strip() or case.client.email
    if not to:
        raise InvalidChange({"to": "le client n'a pas d'adresse email : indiquez-en une ou imprimez le bilan"})
    to, reason = validate_email_address(to)
    if reason:
        raise InvalidChange({"to": reason})
    fx = Effects(action="send_bilan")
    fx.updates.append(Update(Row.BILAN_RECORD, cmd.seq, {"sent_at": now, "sent_to": to}))
    fx.notifications.append(Notify("bilan_email", {"bilan_seq": cmd.seq, "to": to}))
    fx.changes[f"bilan.{cmd.seq}.sent"] = [None, {"to": to, "at": now.isoformat()}]
    return fx


HANDLERS = {
    AddInventoryLine: add_line, SetNothingElsewhere: nothing_elsewhere, AddOutcome: add_outcome,
    UpdateOutcome: update_outcome, AcceptSuggestion: accept, DismissSuggestion: dismiss,
    PrefillInventory: prefill, SendBilan: send,
}
