"""Every change to a case, as a plain command. The write path takes exactly these.

`needs` names the parts of the case the decision reads, so the store loads no more than that.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from states.guards import GUARDS
from states.lifecycle import EVENTS
from states.records import (
    ActionKind, ActionStatus, AppointmentChannel, AttemptOutcome, CallBasis, Channel, Direction, Family, Held,
    OutcomeKind, RequirementStatus, TopicKind,
)
from states.records import ClientDecision, DevisStatus
from states.records import ContractRecord


@dataclass(frozen=True)
class Command:
    @property
    def needs(self) -> frozenset[str]:
        return frozenset()

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return ()

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class FireEvent(Command):
    event: str
    reason: str | None = None

    @property
    def needs(self) -> frozenset[str]:
        t = EVENTS.get(self.event)
        if t is None or t.guard is None:
            return frozenset()
        return GUARDS[t.guard][0] | _EVENT_NEEDS.get(self.event, frozenset())


# What an event's effects read besides its guard (states/bilan.py): finaliser_contrats opens the
# bilan with the client's contracts as its "chez nous" lines; terminer_bilan freezes the record.
_EVENT_NEEDS = {
    "finaliser_contrats": frozenset({"inventory", "client_contracts"}),
    "terminer_bilan": frozenset({"client", "inventory", "outcomes", "actions", "decisions", "bilans"}),
}


@dataclass(frozen=True)
class CorrectClient(Command):
    changes: dict[str, Any]
    reason: str | None = None
    needs = frozenset({"client"})  # type: ignore[assignment]


@dataclass(frozen=True)
class ConfirmAssignment(Command):
    agency_id: str
    advisor_id: int
    needs = frozenset({"client"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,)


@dataclass(frozen=True)
class Reassign(Command):
    advisor_id: int
    reason: str | None = None
    needs = frozenset({"client"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,)


# How far from its appointment's time a call may be and still be the call of that appointment,
# and how long after its time an appointment with no call shows as missed. The API passes the
# setting (M3_APPOINTMENT_TOLERANCE_MINUTES); this is its default.
APPOINTMENT_TOLERANCE = timedelta(hours=2)


@dataclass(frozen=True)
class RecordAttempt(Command):
    """A contact that took place at `at`. Without direction and basis, a phone call is an
    outbound solicitation (the strictest reading, D223-9); an email or letter is outbound when
    sent and inbound when the client replied."""

    channel: Channel
    at: datetime
    outcome: AttemptOutcome
    advisor_id: int | None = None
    direction: Direction | None = None
    basis: CallBasis | None = None  # outbound phone calls only
    appointment_id: int | None = None  # required with basis=appointment
    tolerance: timedelta = APPOINTMENT_TOLERANCE
    pieces_due_days: int = 7  # a refusal leaves the missing pieces as an action due in N days

    @property
    def needs(self) -> frozenset[str]:  # type: ignore[override]
        parts = {"client", "attempts"}
        if self.basis is CallBasis.APPOINTMENT or self.appointment_id is not None:
            parts.add("appointments")
        if self.outcome is AttemptOutcome.REFUSED:
            parts.add("contracts")  # what is still missing becomes a "pièces à obtenir" action
            parts.add("appointments")  # and the appointments still scheduled are cancelled
        return frozenset(parts)

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,) if self.advisor_id else ()


@dataclass(frozen=True)
class SetRequirement(Command):
    contract_id: str
    code: str
    status: RequirementStatus
    waiver_reason: str | None = None
    needs = frozenset({"client", "contracts"})  # type: ignore[assignment]


@dataclass(frozen=True)
class AddInventoryLine(Command):
    family: Family
    product: str
    held: Held
    insurer: str | None = None
    renewal_date: date | None = None


@dataclass(frozen=True)
class SetNothingElsewhere(Command):
    value: bool = True


@dataclass(frozen=True)
class AddOutcome(Command):
    """A bilan outcome, linked to what it implies (states/bilan.py): a complementary need needs a
    detail or the suggestion it comes from, and its devis (`action_id`); a technical question its
    `answer` (and the claim or question it answers, `topic_id`); a change of situation the client
    correction (`correction_seq`, the audit seq of that correction) or its avenant (`action_id`)."""

    kind: OutcomeKind
    detail: str | None = None
    client_decision: ClientDecision | None = None
    suggestion_code: str | None = None
    answer: str | None = None
    topic_id: int | None = None
    action_id: int | None = None
    correction_seq: int | None = None

    @property
    def needs(self) -> frozenset[str]:  # type: ignore[override]
        parts = _link_needs(self.action_id, self.topic_id, self.correction_seq)
        if self.suggestion_code is not None:  # the suggestion accepted (AcceptSuggestion)
            parts |= AcceptSuggestion.needs
        return parts


def _link_needs(action_id, topic_id, correction_seq) -> frozenset[str]:
    parts = set()
    if action_id is not None:
        parts.add("actions")
    if topic_id is not None:
        parts.add("topics")
    if correction_seq is not None:
        parts.add("correction_seqs")
    return frozenset(parts)


@dataclass(frozen=True)
class AddAction(Command):
    """A next action: its owner (an active advisor of the case's agency) and due date are required.
    `outcome_id` links a devis to the need it answers (or an avenant to the change of situation)."""

    kind: ActionKind
    owner_id: int
    due_date: date
    label: str | None = None
    outcome_id: int | None = None

    @property
    def needs(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({"outcomes", "decisions"}) if self.outcome_id is not None else frozenset()

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.owner_id,) if self.owner_id else ()


@dataclass(frozen=True)
class UpdateAction(Command):
    action_id: int
    status: ActionStatus | None = None
    owner_id: int | None = None
    due_date: date | None = None
    devis_status: DevisStatus | None = None  # devis actions only
    needs = frozenset({"actions"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.owner_id,) if self.owner_id else ()


# ---------------------------------------------------------------- appointments (states/appointments.py)
@dataclass(frozen=True)
class BookAppointment(Command):
    """An appointment the client agreed to (`client_agreed` must be true: it is the proof of
    consent that lets the call at that time fall outside D223-9's hours)."""

    at: datetime
    channel: AppointmentChannel
    client_agreed: bool
    advisor_id: int | None = None
    needs = frozenset({"client", "appointments"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,) if self.advisor_id else ()


@dataclass(frozen=True)
class MoveAppointment(Command):
    appointment_id: int
    at: datetime | None = None
    channel: AppointmentChannel | None = None
    advisor_id: int | None = None
    reason: str | None = None
    needs = frozenset({"client", "appointments"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,) if self.advisor_id else ()


@dataclass(frozen=True)
class CancelAppointment(Command):
    appointment_id: int
    reason: str
    needs = frozenset({"client", "appointments"})  # type: ignore[assignment]


@dataclass(frozen=True)
class RedactAuditRecord(Command):
    """RGPD erasure or retention: blank one audit record's content, keeping its place in the chain.

    Allowed on a closed case (retention applies to closed files above all); audited as a record
    of its own that names the redacted one, so `m3 audit verify` can tell it from tampering."""

    seq: int
    reason: str
    allowed_when_closed = True


# ---------------------------------------------------------------- notes, claims and questions (states/notes.py)
NOTE_MAX_CHARS = 4000  # default of M3_NOTE_MAX_CHARS; the API passes the setting


@dataclass(frozen=True)
class AddNote(Command):
    """A free-text note on the case, by `author` (the actor). Never a health detail (RGPD art. 9)."""

    text: str
    author: str
    max_chars: int = NOTE_MAX_CHARS


@dataclass(frozen=True)
class AddTopic(Command):
    """A claim (sinistre) or a question the client raised since the subscription."""

    kind: TopicKind
    occurred_on: date
    summary: str
    author: str
    answer: str | None = None  # a question answered on the spot is recorded answered
    max_chars: int = NOTE_MAX_CHARS
    needs = frozenset({"contracts"})  # type: ignore[assignment]  # "since the subscription"


@dataclass(frozen=True)
class AnswerTopic(Command):
    """The answer to a question or the outcome of a claim: the entry becomes answered."""

    topic_id: int
    answer: str
    max_chars: int = NOTE_MAX_CHARS
    needs = frozenset({"topics"})  # type: ignore[assignment]


# ---------------------------------------------------------------- CRM import (states/corrections.py)
@dataclass(frozen=True)
class ImportClientChanges(Command):
    """What a CRM import changed on the client of an open case, to audit on the case (actor
    system:import). The importer computes `changes` ("client.<field>": [before, after]) after
    applying the correction rule; `standing` and `taken` name the corrected fields it kept or
    let the CRM replace. `agency_id`: the client's new agency, the case moves there, to
    `advisor_id` (an active advisor of that agency chosen by the store, or None)."""

    changes: dict[str, tuple[Any, Any]]
    standing: tuple[str, ...] = ()
    taken: tuple[str, ...] = ()
    agency_id: str | None = None
    advisor_id: int | None = None

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,) if self.advisor_id else ()


# ---------------------------------------------------------------- the bilan (states/bilan.py)
@dataclass(frozen=True)
class DevisRequest:
    """The devis to plan with an accepted suggestion (the API offers owner = the case's advisor,
    due in 7 days; the caller may change both)."""

    owner_id: int
    due_date: date
    label: str | None = None


@dataclass(frozen=True)
class AcceptSuggestion(Command):
    """The advisor takes up a gap suggestion: it becomes a need (a complementary_need outcome
    linked to the suggestion's code) and, with `create_devis`, a devis action in the same change."""

    code: str
    detail: str | None = None
    client_decision: ClientDecision | None = None
    create_devis: DevisRequest | None = None
    needs = frozenset({"client", "inventory", "decisions"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.create_devis.owner_id,) if self.create_devis and self.create_devis.owner_id else ()


@dataclass(frozen=True)
class DismissSuggestion(Command):
    """The advisor sets a gap suggestion aside, with the reason (DDA: the advice given and why)."""

    code: str
    reason: str
    needs = frozenset({"client", "inventory", "decisions"})  # type: ignore[assignment]


@dataclass(frozen=True)
class UpdateOutcome(Command):
    """Complete an outcome: the client's decision, its detail, its links (see AddOutcome)."""

    outcome_id: int
    client_decision: ClientDecision | None = None
    detail: str | None = None
    answer: str | None = None
    topic_id: int | None = None
    action_id: int | None = None
    correction_seq: int | None = None

    @property
    def needs(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({"outcomes"}) | _link_needs(self.action_id, self.topic_id, self.correction_seq)


@dataclass(frozen=True)
class PrefillInventory(Command):
    """Add a "chez nous" line for each active contract of the client not in the inventory yet
    (what finaliser_contrats does when the bilan opens; again later for a contract that joined)."""

    needs = frozenset({"inventory", "client_contracts"})  # type: ignore[assignment]


@dataclass(frozen=True)
class SendBilan(Command):
    """Email frozen bilan record `seq` to the client (a durable medium; a service message), its
    PDF attached. `to`: another address than the client's (the one the client gave on the call)."""

    seq: int
    to: str | None = None
    needs = frozenset({"client", "bilans"})  # type: ignore[assignment]
    allowed_when_closed = True  # a bilan closed "satisfait" is still sent afterwards


# ---------------------------------------------------------------- cohort joins (states/joins.py)
@dataclass(frozen=True)
class JoinContracts(Command):
    """New contracts of the client join its open case (the cohort does this, as system:cohort).

    `contracts` are the new contracts as the store read them (with any requirement already
    recorded); `pieces_due`: when the *pièces à obtenir* action is due, if the case has passed
    *contrats finalisés* (the cohort passes today + M3_PIECES_DUE_DAYS)."""

    contracts: tuple[ContractRecord, ...]
    pieces_due: date
    needs = frozenset({"client", "contract_ids"})  # type: ignore[assignment]


# ---------------------------------------------------------------- letters posted, opt-outs (issue 8)
@dataclass(frozen=True)
class MarkLetterPosted(Command):
    """The agency printed letter `letter_id` of the case and posted it on `posted_on`. When it is
    the letter of the case's current step (courrier envoyé), the escalation's next delay counts
    from that day (states/letters.py)."""

    letter_id: int
    posted_on: date
    needs = frozenset({"letters"})  # type: ignore[assignment]


@dataclass(frozen=True)
class RecordOpposition(Command):
    """The client opposes marketing on `channel` (the opt-out link of an email, or said on the
    phone). Allowed on a closed case: the link in an email outlives the case it was sent for."""

    channel: Channel
    source: str = "lien de désinscription"
    needs = frozenset({"client"})  # type: ignore[assignment]
    allowed_when_closed = True
