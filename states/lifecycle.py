"""The M+3 lifecycle, declared once.

`TRANSITIONS` is the single transition table. Everything else derives from it: the shared
`transitions.Machine` that fires events, the events allowed from a state, the guards checked
before a transition, the Mermaid diagram in the README, the UI buttons and the API's 409s.

Why one shared machine and a throw-away token per trigger: building a `Machine` per case costs
1.4-1.8 ms and ~50 KiB, `add_model` is quadratic (pytransitions #434) and a machine cannot be
attached to a SQLModel row (#635). Triggering an existing event on a plain token costs ~20 us.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from transitions import Machine, MachineError


class State(StrEnum):
    A_CONTACTER = "a_contacter"
    JOINT_RDV = "joint_rdv"
    FICHE_VALIDEE = "fiche_validee"
    CONTRATS_FINALISES = "contrats_finalises"
    BILAN_FAIT = "bilan_fait"
    ACTIONS_PLANIFIEES = "actions_planifiees"
    EMAIL_ENVOYE = "email_envoye"
    COURRIER_ENVOYE = "courrier_envoye"
    CLOTURE = "cloture"


STATE_LABELS: dict[State, str] = {
    State.A_CONTACTER: "À contacter",
    State.JOINT_RDV: "Joint / RDV",
    State.FICHE_VALIDEE: "Fiche validée",
    State.CONTRATS_FINALISES: "Contrats finalisés",
    State.BILAN_FAIT: "Bilan fait",
    State.ACTIONS_PLANIFIEES: "Actions planifiées",
    State.EMAIL_ENVOYE: "Email envoyé",
    State.COURRIER_ENVOYE: "Courrier envoyé",
    State.CLOTURE: "Clôturé",
}


class ClosingReason(StrEnum):
    COMPLET = "complet"
    INJOIGNABLE = "injoignable"
    REFUS = "refus"
    SANS_SUITE = "sans_suite"


OPEN_STATES = tuple(s for s in State if s is not State.CLOTURE)
# States from which the client has not been reached yet: escalation applies to them.
UNREACHED_STATES = (State.A_CONTACTER, State.EMAIL_ENVOYE, State.COURRIER_ENVOYE)
# The states from which "contrats finalisés" is still ahead (the unreached ones lead to joint/RDV):
# a contract joining a case in one of them waits for that step (states/joins.py).
BEFORE_FINALISATION = frozenset({State.A_CONTACTER, State.JOINT_RDV, State.FICHE_VALIDEE, State.EMAIL_ENVOYE,
                                 State.COURRIER_ENVOYE})
# States in which the client has been reached and the advisor is working the case.
WORKING_STATES = (
    State.JOINT_RDV, State.FICHE_VALIDEE, State.CONTRATS_FINALISES,
    State.BILAN_FAIT, State.ACTIONS_PLANIFIEES,
)


@dataclass(frozen=True)
class Transition:
    event: str
    sources: tuple[State, ...]
    dest: State
    label: str  # French, for buttons and the diagram
    guard: str | None = None  # name of a guard in states.guards.GUARDS
    closing_reason: ClosingReason | None = None


_S = State
TRANSITIONS: tuple[Transition, ...] = (
    Transition("joindre", UNREACHED_STATES, _S.JOINT_RDV, "Client joint"),
    Transition("prendre_rdv", UNREACHED_STATES, _S.JOINT_RDV, "RDV pris"),
    Transition("envoyer_email", (_S.A_CONTACTER,), _S.EMAIL_ENVOYE, "Email envoyé", "email_allowed"),
    Transition("envoyer_courrier", (_S.A_CONTACTER, _S.EMAIL_ENVOYE), _S.COURRIER_ENVOYE,
               "Courrier envoyé", "letter_allowed"),
    Transition("valider_fiche", (_S.JOINT_RDV,), _S.FICHE_VALIDEE, "Valider la fiche", "fiche_complete"),
    Transition("finaliser_contrats", (_S.FICHE_VALIDEE,), _S.CONTRATS_FINALISES,
               "Contrats finalisés", "contracts_complete"),
    Transition("terminer_bilan", (_S.CONTRATS_FINALISES,), _S.BILAN_FAIT, "Bilan fait", "bilan_complete"),
    Transition("planifier_actions", (_S.BILAN_FAIT,), _S.ACTIONS_PLANIFIEES,
               "Actions planifiées", "actions_planned"),
    Transition("cloturer", (_S.ACTIONS_PLANIFIEES,), _S.CLOTURE, "Clôturer (client complet)",
               "actions_finished", ClosingReason.COMPLET),
    Transition("cloturer_satisfait", (_S.BILAN_FAIT,), _S.CLOTURE, "Clôturer (satisfait, sans action)",
               "satisfied_without_action", ClosingReason.COMPLET),
    Transition("declarer_injoignable", UNREACHED_STATES, _S.CLOTURE, "Injoignable",
               None, ClosingReason.INJOIGNABLE),
    Transition("enregistrer_refus", OPEN_STATES, _S.CLOTURE, "Refus du client",
               None, ClosingReason.REFUS),
    Transition("classer_sans_suite", OPEN_STATES, _S.CLOTURE, "Classer sans suite",
               "reason_given", ClosingReason.SANS_SUITE),
)

EVENTS: dict[str, Transition] = {t.event: t for t in TRANSITIONS}


class _Token:
    """A throw-away model: the machine needs an object with a `state` attribute."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _build_machine() -> Machine:
    machine = Machine(
        model=None,
        states=[s.value for s in State],
        initial=State.A_CONTACTER.value,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
    for t in TRANSITIONS:
        machine.add_transition(t.event, [s.value for s in t.sources], t.dest.value)
    return machine


MACHINE = _build_machine()


class DomainError(Exception):
    """A change the rules refuse. Defined here (re-exported by states.errors) so that
    EventNotAllowed, raised by the table itself, is one too."""


class EventNotAllowed(DomainError):
    def __init__(self, event: str, state: str, allowed: list[str]) -> None:
        self.event, self.state, self.allowed = event, state, allowed
        allowed_txt = ", ".join(allowed) or "aucun"
        super().__init__(f"l'événement '{event}' n'est pas possible depuis l'état '{state}' "
                         f"(possibles : {allowed_txt})")


def allowed_events(state: str) -> list[str]:
    return [t.event for t in TRANSITIONS if state in t.sources]


def next_state(state: str, event: str) -> State:
    """Fire `event` from `state` on the shared machine; raise EventNotAllowed if the table forbids it."""
    trigger = MACHINE.events.get(event)
    if trigger is None:
        raise EventNotAllowed(event, state, allowed_events(state))
    token = _Token(str(state))
    try:
        trigger.trigger(token)
    except MachineError:
        raise EventNotAllowed(event, state, allowed_events(state)) from None
    return State(token.state)


def mermaid() -> str:
    """The lifecycle as a Mermaid state diagram, generated from TRANSITIONS."""
    lines = ["stateDiagram-v2", f"    [*] --> {State.A_CONTACTER.value}"]
    for s in State:
        lines.append(f"    {s.value} : {STATE_LABELS[s]}")
    for t in TRANSITIONS:
        for src in t.sources:
            guard = f" [{t.guard}]" if t.guard else ""
            lines.append(f"    {src.value} --> {t.dest.value} : {t.event}{guard}")
    lines.append(f"    {State.CLOTURE.value} --> [*]")
    return "\n".join(lines) + "\n"
