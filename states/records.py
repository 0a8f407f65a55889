"""Plain, immutable snapshots of a case and what it touches, as the domain sees them.

The store builds these from rows; the domain never sees a table or a session.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class ClientKind(StrEnum):
    PARTICULIER = "particulier"
    PROFESSIONNEL = "professionnel"
    ENTREPRISE = "entreprise"


class Family(StrEnum):
    IARD = "IARD"
    SANTE = "Santé"
    PREVOYANCE = "Prévoyance"
    EPARGNE = "Épargne"


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"


class AttemptOutcome(StrEnum):
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    REACHED = "reached"
    APPOINTMENT = "appointment"
    REFUSED = "refused"
    SENT = "sent"  # an email or letter that went out
    REPLIED = "replied"  # the client answered an email or letter


FAILED_CALL_OUTCOMES = (AttemptOutcome.NO_ANSWER, AttemptOutcome.VOICEMAIL, AttemptOutcome.WRONG_NUMBER)
REACHED_OUTCOMES = (AttemptOutcome.REACHED, AttemptOutcome.APPOINTMENT, AttemptOutcome.REPLIED)


class Direction(StrEnum):
    """Who placed the contact: the agency (outbound) or the client (inbound)."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"


class CallBasis(StrEnum):
    """Why an outbound phone call was placed. Only a solicitation falls under D223-9's hours and
    limits; a call at an appointment the client agreed to is covered by that consent."""

    SOLICITATION = "solicitation"
    APPOINTMENT = "appointment"


class AppointmentChannel(StrEnum):
    PHONE = "phone"
    AGENCY = "agency"
    VIDEO = "video"


class AppointmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    DONE = "done"  # a call was recorded against it
    CANCELLED = "cancelled"
    MISSED = "missed"  # never stored: derived (scheduled, its time + tolerance passed, no call)


class RequirementStatus(StrEnum):
    MISSING = "missing"
    RECEIVED = "received"
    VALIDATED = "validated"
    WAIVED = "waived"


class Held(StrEnum):
    CHEZ_NOUS = "chez_nous"
    AILLEURS = "ailleurs"


class OutcomeKind(StrEnum):
    SATISFIED = "satisfied"
    COMPLEMENTARY_NEED = "complementary_need"
    TECHNICAL_QUESTION = "technical_question"
    SITUATION_CHANGE = "situation_change"


class ActionKind(StrEnum):
    DEVIS = "devis"
    RDV = "rdv"
    ENVOI = "envoi"
    RELANCE = "relance"
    AVENANT = "avenant"  # a contract change (change of situation)
    PIECES = "pieces"  # "pièces à obtenir": signatures and documents still missing on a contract


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class DevisStatus(StrEnum):
    """Where a devis action stands: proposé (being prepared), envoyé (with the client), signé, refusé."""

    PROPOSE = "propose"
    ENVOYE = "envoye"
    SIGNE = "signe"
    REFUSE = "refuse"


class ClientDecision(StrEnum):
    """The client's decision on a need or advice of the bilan (DDA proof)."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    TO_THINK = "to_think"  # "à réfléchir"


class SuggestionDecision(StrEnum):
    """The advisor's decision on a gap suggestion."""

    ACCEPTED = "accepted"  # it became a need (a complementary_need outcome)
    DISMISSED = "dismissed"  # with a reason


class TopicKind(StrEnum):
    """What the client reported since the subscription (step 2 of the process: a claim or a question)."""

    SINISTRE = "sinistre"
    QUESTION = "question"


class TopicStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


@dataclass(frozen=True)
class AdvisorRecord:
    id: int
    name: str
    agency_id: str
    active: bool


@dataclass(frozen=True)
class ClientRecord:
    id: str
    kind: ClientKind
    agency_id: str
    advisor_id: int | None = None
    last_name: str | None = None
    first_name: str | None = None
    company_name: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    phone: str | None = None
    email: str | None = None
    marital_status: str | None = None
    professional_status: str | None = None
    siret: str | None = None
    naf_code: str | None = None
    activity: str | None = None
    turnover_eur: Decimal | None = None
    headcount: int | None = None
    insurance_contact: str | None = None
    housing_status: str | None = None
    opposition_phone: bool = False
    opposition_email: bool = False
    opposition_letter: bool = False
    civility: str | None = None  # "M.", "Mme" or unknown (states.people)
    # The bilan's situation (states.situation; employees are `headcount`); None = unknown, "à demander".
    children_at_home: int | None = None
    vehicles: int | None = None
    cadres: int | None = None

    @property
    def display_name(self) -> str:
        from states.people import client_display_name

        return client_display_name(self.kind.value, self.first_name, self.last_name, self.company_name, self.id)


@dataclass(frozen=True)
class RequirementRecord:
    code: str
    status: RequirementStatus = RequirementStatus.MISSING
    waiver_reason: str | None = None


@dataclass(frozen=True)
class ContractRecord:
    id: str
    family: Family
    product: str
    effective_date: date
    active: bool = True
    premium_eur: Decimal | None = None
    requirements: dict[str, RequirementRecord] = field(default_factory=dict)  # recorded ones only


@dataclass(frozen=True)
class AttemptRecord:
    channel: Channel
    at: datetime
    outcome: AttemptOutcome
    direction: Direction = Direction.OUTBOUND
    basis: CallBasis | None = None  # outbound phone calls; None (older rows) reads as a solicitation
    appointment_id: int | None = None

    @property
    def is_solicitation(self) -> bool:
        """An outbound phone call not placed at a consented appointment: what D223-9 restricts."""
        return (self.channel is Channel.PHONE and self.direction is Direction.OUTBOUND
                and self.basis is not CallBasis.APPOINTMENT)


@dataclass(frozen=True)
class AppointmentRecord:
    id: int
    at: datetime  # UTC; shown and checked in the client's time zone
    channel: AppointmentChannel
    status: AppointmentStatus  # scheduled / done / cancelled, as stored
    advisor_id: int | None = None
    client_agreed: bool = True


@dataclass(frozen=True)
class InventoryRecord:
    family: Family
    product: str
    held: Held
    insurer: str | None = None
    renewal_date: date | None = None
    contract_id: str | None = None  # pre-filled from this contract of ours (held chez nous)
    id: int | None = None


@dataclass(frozen=True)
class ActionRecord:
    id: int
    kind: ActionKind
    owner_id: int | None
    due_date: date | None
    status: ActionStatus = ActionStatus.OPEN
    label: str | None = None
    devis_status: DevisStatus | None = None  # devis actions only


@dataclass(frozen=True)
class OutcomeRecord:
    """A bilan outcome with what it implies: a need's devis (action_id) or suggestion, a change of
    situation's client correction (correction_seq, an audit seq) or avenant (action_id), a
    technical question's answer (and the claim or question it answers, topic_id)."""

    id: int
    kind: OutcomeKind
    detail: str | None = None
    suggestion_code: str | None = None
    client_decision: ClientDecision | None = None
    answer: str | None = None
    topic_id: int | None = None
    action_id: int | None = None
    correction_seq: int | None = None


@dataclass(frozen=True)
class DecisionRecord:
    """The advisor's decision on one gap suggestion of the case (bilan_suggestion_decision)."""

    code: str
    decision: SuggestionDecision
    reason: str | None = None
    outcome_id: int | None = None
    action_id: int | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class CaseSnapshot:
    """A case and, when the change needs them, its parts (None = not loaded)."""

    id: int
    state: str
    version: int
    assigned_advisor_id: int | None = None
    assignment_confirmed: bool = False
    nothing_elsewhere: bool = False
    closing_reason: str | None = None
    escalation_step: int = 0
    audit_seq: int = 0  # records in the case's audit trail so far
    client: ClientRecord | None = None
    contracts: tuple[ContractRecord, ...] | None = None
    attempts: tuple[AttemptRecord, ...] | None = None
    inventory: tuple[InventoryRecord, ...] | None = None
    outcomes: tuple[OutcomeKind, ...] | None = None
    actions: tuple[ActionRecord, ...] | None = None
    advisors: dict[int, AdvisorRecord] = field(default_factory=dict)  # those a change refers to
    # The case row's own agency and dates (always loaded; None only in hand-built snapshots).
    agency_id: str | None = None
    created_at: datetime | None = None  # when the case opened: no contact can predate it
    window_start: date | None = None
    window_end: date | None = None
    reached_at: datetime | None = None
    appointments: tuple[AppointmentRecord, ...] | None = None
    topics: tuple[TopicRecord, ...] | None = None  # claims and questions since the subscription
    # The bilan (docs/bilan.md): outcome_records is loaded with `outcomes` (the same rows, in full);
    # client_contracts are all the client's active contracts (not only the case's).
    outcome_records: tuple[OutcomeRecord, ...] | None = None
    client_contracts: tuple[ContractRecord, ...] | None = None
    decisions: tuple[DecisionRecord, ...] | None = None
    bilan_count: int | None = None  # frozen bilan records of the case so far
    correction_seqs: tuple[int, ...] | None = None  # audit seqs of the case's client corrections
    letters: tuple[LetterRecord, ...] | None = None  # the case's postal letters (states/letters.py)
    contract_ids: tuple[str, ...] | None = None  # the case's contract ids only (states/joins.py), by id


@dataclass(frozen=True)
class TopicRecord:
    id: int
    kind: TopicKind
    occurred_on: date
    summary: str
    status: TopicStatus = TopicStatus.OPEN
    answer: str | None = None


@dataclass(frozen=True)
class LetterRecord:
    """A postal letter of the case (an outbox row of kind client_letter): produced when its PDF
    was written (status "sent"), posted when the agency records the day it went out."""

    id: int
    created_at: datetime
    status: str  # the outbox status: pending / sending / sent / failed / cancelled
    posted_on: date | None = None
