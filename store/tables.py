"""The tables, as SQLModel classes. Persistence only: the domain sees states.records snapshots.

Why the case row carries `audit_seq` and `audit_head`: the audit chain is per case, and the case
row (already locked by the optimistic version check) is where the chain's tip lives, so a deleted
last record is detected and concurrent writers on different cases never contend.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


def _ts(nullable: bool = True, **kw) -> Field:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, **kw))


class Agency(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)  # "corniche", "rouviere"
    name: str = Field(max_length=100)


class Advisor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    email: str | None = Field(default=None, max_length=254)
    agency_id: str = Field(foreign_key="agency.id", index=True)
    active: bool = True


class Client(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)  # the CRM (Lagon) client id
    kind: str = Field(max_length=16)
    last_name: str | None = None
    first_name: str | None = None
    company_name: str | None = None
    address: str | None = None
    postal_code: str | None = Field(default=None, max_length=16)
    city: str | None = None
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    marital_status: str | None = None
    professional_status: str | None = None
    siret: str | None = Field(default=None, max_length=32)
    naf_code: str | None = Field(default=None, max_length=16)
    naf_nomenclature: str | None = Field(default=None, max_length=16)  # "NAF2" (rév. 2) until 2027
    activity: str | None = None
    turnover_eur: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    headcount: int | None = None
    insurance_contact: str | None = None
    housing_status: str | None = Field(default=None, max_length=16)
    opposition_phone: bool = False
    opposition_email: bool = False
    opposition_letter: bool = False
    agency_id: str = Field(foreign_key="agency.id", index=True)
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")
    source_hash: str | None = Field(default=None, max_length=32)  # import: detects unchanged rows


class Contract(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="client.id", index=True)
    family: str = Field(max_length=16)
    product: str
    effective_date: date = Field(index=True)
    status: str = Field(max_length=16)  # active / cancelled
    seller_id: int | None = Field(default=None, foreign_key="advisor.id")
    premium_eur: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    source_hash: str | None = Field(default=None, max_length=32)


class ContractRequirement(SQLModel, table=True):
    """A signature or document whose status was recorded; one not recorded is missing."""

    __tablename__ = "contract_requirement"
    contract_id: str = Field(foreign_key="contract.id", primary_key=True, max_length=64)
    code: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=16)  # missing / received / validated / waived
    waiver_reason: str | None = None
    updated_at: datetime | None = _ts()


class FollowupCase(SQLModel, table=True):
    __tablename__ = "followup_case"
    __table_args__ = (Index("ix_case_state_agency", "state", "agency_id"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="client.id", index=True)
    agency_id: str = Field(foreign_key="agency.id")
    cohort_month: str = Field(max_length=7, index=True)  # "2026-04"
    due_date: date
    window_start: date
    window_end: date
    state: str = Field(default="a_contacter", max_length=32)
    closing_reason: str | None = Field(default=None, max_length=16)
    assigned_advisor_id: int | None = Field(default=None, foreign_key="advisor.id", index=True)
    priority: int = 0
    escalation_step: int = 0  # 0 phone, 1 email sent, 2 letter sent
    escalated_at: datetime | None = _ts()
    late: bool = False
    assignment_confirmed: bool = False
    nothing_elsewhere: bool = False
    reached_at: datetime | None = _ts()
    bilan_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    version: int = 1
    audit_seq: int = 0
    audit_head: str = Field(default="", max_length=64)


class CaseContract(SQLModel, table=True):
    """Which contracts a case covers. A contract is followed up once: unique contract_id."""

    __tablename__ = "case_contract"
    case_id: int = Field(foreign_key="followup_case.id", primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", primary_key=True, unique=True, max_length=64)


class ContactAttempt(SQLModel, table=True):
    __tablename__ = "contact_attempt"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    channel: str = Field(max_length=8)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")
    outcome: str = Field(max_length=16)


class InventoryLine(SQLModel, table=True):
    __tablename__ = "inventory_line"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    family: str = Field(max_length=16)
    product: str
    held: str = Field(max_length=16)  # chez_nous / ailleurs
    insurer: str | None = None
    renewal_date: date | None = None
    created_at: datetime | None = _ts()


class BilanOutcome(SQLModel, table=True):
    __tablename__ = "bilan_outcome"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    kind: str = Field(max_length=32)
    detail: str | None = None
    created_at: datetime | None = _ts()


class PlannedAction(SQLModel, table=True):
    __tablename__ = "planned_action"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    kind: str = Field(max_length=16)  # devis / rdv / envoi / relance
    label: str | None = None
    owner_id: int | None = Field(default=None, foreign_key="advisor.id", index=True)
    due_date: date | None = None
    status: str = Field(default="open", max_length=16)
    created_at: datetime | None = _ts()


class AuditRecord(SQLModel, table=True):
    """Append-only. `hash` = sha256(prev_hash + canonical JSON of the record): see store.audit."""

    __tablename__ = "audit_record"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id")
    seq: int
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    changes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str | None = None
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    redacted_at: datetime | None = _ts()  # RGPD redaction blanked `changes` (but the lifecycle keys) and `reason`


class AuditRedactionGrant(SQLModel, table=True):
    """A record the redaction in progress may blank: the database triggers allow nothing else."""

    __tablename__ = "audit_redaction_grant"
    record_id: int = Field(primary_key=True)


class Notification(SQLModel, table=True):
    """The transactional outbox: written in the same transaction as the change that causes it."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_notification_dedupe"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200)  # makes re-runs of flows enqueue nothing twice
    kind: str = Field(max_length=32)  # client_email, client_letter, documents_request, advisor_digest...
    channel: str = Field(max_length=8)  # email / letter
    case_id: int | None = Field(default=None, foreign_key="followup_case.id", index=True)
    recipient: str | None = None
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)  # pending / sent / failed
    attempts: int = 0
    next_attempt_at: datetime | None = _ts()
    last_error: str | None = None
    message_id: str | None = Field(default=None, max_length=200)
    created_at: datetime | None = _ts()
    sent_at: datetime | None = _ts()


class AppUser(SQLModel, table=True):
    """A person who signs in to the API. The token's secret is never stored: only its argon2 hash.

    A token reads `m3_<token_id>.<secret>`: `token_id` is public and unique (the lookup key),
    the secret is checked against `token_hash`.
    """

    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=16)  # advisor / manager / compliance / admin
    agency_id: str | None = Field(default=None, foreign_key="agency.id")  # required for advisor, manager
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")  # an advisor user's Advisor row
    token_id: str = Field(max_length=32, unique=True)
    token_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime | None = _ts()
