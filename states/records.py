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

    @property
    def display_name(self) -> str:
        if self.kind is ClientKind.ENTREPRISE and self.company_name:
            return self.company_name
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.company_name or self.id


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


@dataclass(frozen=True)
class InventoryRecord:
    family: Family
    product: str
    held: Held
    insurer: str | None = None
    renewal_date: date | None = None


@dataclass(frozen=True)
class ActionRecord:
    id: int
    kind: ActionKind
    owner_id: int | None
    due_date: date | None
    status: ActionStatus = ActionStatus.OPEN


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
