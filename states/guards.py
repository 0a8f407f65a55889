"""Guards of the lifecycle. Each returns EVERY unmet requirement by name, never only the first.

`GUARDS[name] = (parts of the case it reads, function)`; transitions name their guard in
states.lifecycle.TRANSITIONS.
"""
from __future__ import annotations

from typing import Callable

from states import fiche, requirements
from states.errors import Unmet
from states.records import ActionStatus, CaseSnapshot, Held, OutcomeKind, OutcomeRecord
from states.validators import validate_email_address

GuardFn = Callable[[CaseSnapshot, dict], list[Unmet]]


def email_allowed(case: CaseSnapshot, params: dict) -> list[Unmet]:
    c = case.client
    unmet = []
    if c.opposition_email:
        unmet.append(Unmet("opposition_email", "le client s'est opposé aux emails"))
    _, reason = validate_email_address(c.email)
    if reason:
        unmet.append(Unmet("email", reason))
    return unmet


def letter_allowed(case: CaseSnapshot, params: dict) -> list[Unmet]:
    c = case.client
    unmet = []
    if c.opposition_letter:
        unmet.append(Unmet("opposition_letter", "le client s'est opposé aux courriers"))
    for field, label in (("address", "adresse"), ("postal_code", "code postal"), ("city", "ville")):
        if not (getattr(c, field) or "").strip():
            unmet.append(Unmet(field, f"{label} manquante pour le courrier"))
    return unmet


def fiche_complete(case: CaseSnapshot, params: dict) -> list[Unmet]:
    return [Unmet(i.field, i.reason or i.label) for i in fiche.checklist(case.client, case.assignment_confirmed)
            if not i.ok]


def contracts_complete(case: CaseSnapshot, params: dict) -> list[Unmet]:
    unmet = []
    for contract in case.contracts:
        for item in requirements.checklist(contract, case.client.kind):
            if not item.satisfied:
                unmet.append(Unmet(f"{contract.id}.{item.code}", f"{item.label} : manquant (contrat {contract.id})"))
    return unmet


def bilan_complete(case: CaseSnapshot, params: dict) -> list[Unmet]:
    unmet = []
    if not case.nothing_elsewhere and not any(line.held is Held.AILLEURS for line in case.inventory):
        unmet.append(Unmet("inventory_elsewhere",
                           "inventaire « ailleurs » vide : ajouter les contrats détenus ailleurs ou "
                           "indiquer « rien ailleurs »"))
    if not case.outcomes:
        unmet.append(Unmet("outcome", "aucun résultat du bilan enregistré"))
    # DDA: the client's decision on each need and change of situation; a question carries its answer.
    records = case.outcome_records if case.outcome_records is not None else tuple(
        OutcomeRecord(0, k) for k in case.outcomes or ())
    for o in records:
        if o.kind in (OutcomeKind.COMPLEMENTARY_NEED, OutcomeKind.SITUATION_CHANGE) and o.client_decision is None:
            what = "besoin" if o.kind is OutcomeKind.COMPLEMENTARY_NEED else "changement de situation"
            unmet.append(Unmet(f"outcome.{o.id}.client_decision",
                               f"{what} n° {o.id} : décision du client à indiquer (acceptée, refusée, à réfléchir)"))
        if o.kind is OutcomeKind.TECHNICAL_QUESTION and not o.answer:
            unmet.append(Unmet(f"outcome.{o.id}.answer", f"question technique n° {o.id} : réponse à indiquer"))
    return unmet


def actions_planned(case: CaseSnapshot, params: dict) -> list[Unmet]:
    ready = [a for a in case.actions if a.status is ActionStatus.OPEN and a.owner_id and a.due_date]
    if ready:
        return []
    return [Unmet("action", "au moins une action ouverte avec un responsable et une échéance")]


def actions_finished(case: CaseSnapshot, params: dict) -> list[Unmet]:
    return [Unmet(f"action.{a.id}", f"action {a.kind.value} n° {a.id} encore ouverte")
            for a in case.actions if a.status is ActionStatus.OPEN]


def satisfied_without_action(case: CaseSnapshot, params: dict) -> list[Unmet]:
    unmet = []
    if not case.outcomes or any(o is not OutcomeKind.SATISFIED for o in case.outcomes):
        unmet.append(Unmet("outcome", "seul un client satisfait sans besoin peut être clôturé après le bilan"))
    open_actions = [a for a in case.actions if a.status is ActionStatus.OPEN]
    if open_actions:
        unmet.append(Unmet("action", f"{len(open_actions)} action(s) encore ouverte(s)"))
    return unmet


def reason_given(case: CaseSnapshot, params: dict) -> list[Unmet]:
    if (params.get("reason") or "").strip():
        return []
    return [Unmet("reason", "un motif est obligatoire pour classer sans suite")]


GUARDS: dict[str, tuple[frozenset[str], GuardFn]] = {
    "email_allowed": (frozenset({"client"}), email_allowed),
    "letter_allowed": (frozenset({"client"}), letter_allowed),
    "fiche_complete": (frozenset({"client"}), fiche_complete),
    "contracts_complete": (frozenset({"client", "contracts"}), contracts_complete),
    "bilan_complete": (frozenset({"inventory", "outcomes"}), bilan_complete),
    "actions_planned": (frozenset({"actions"}), actions_planned),
    "actions_finished": (frozenset({"actions"}), actions_finished),
    "satisfied_without_action": (frozenset({"outcomes", "actions"}), satisfied_without_action),
    "reason_given": (frozenset(), reason_given),
}


def unmet_for(event_guard: str | None, case: CaseSnapshot, params: dict) -> list[Unmet]:
    if event_guard is None:
        return []
    return GUARDS[event_guard][1](case, params)
