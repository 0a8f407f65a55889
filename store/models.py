"""The tables, as SQLModel classes: the one definition of the schema (and alembic's metadata).
Persistence only: the domain sees states.records snapshots.

The code reads and writes through `store/tables.py`, plain SQLAlchemy Core tables generated from
these classes (`python -m store.tables_build`; a test checks it is current and that both give the
same DDL on SQLite and PostgreSQL). Why: building these classes (pydantic models and ORM mappers)
cost every `m3` command about 0.35-0.8 s of import (docs/performance-cli-http.md); nothing
instantiates them, so the code needs only their tables.

Why the case row carries `audit_seq` and `audit_head`: the audit chain is per case, and the case
row (already locked by the optimistic version check) is where the chain's tip lives, so a deleted
last record is detected and concurrent writers on different cases never contend.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Index, Numeric, Text, UniqueConstraint
from sqlalchemy import Double
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


def _ts(nullable: bool = True, **kw) -> Field:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, **kw))


class Agency(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)  # "corniche", "rouviere"
    name: str = Field(max_length=100)


class Advisor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)  # as the CRM names them: the import matches on it
    email: str | None = Field(default=None, max_length=254)
    agency_id: str = Field(foreign_key="agency.id", index=True)
    active: bool = True
    # Display (letters, emails, call script): states.people.advisor_display_name (migration 0004).
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=100)  # "Chargée de clientèle"; none: not printed


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
    civility: str | None = Field(default=None, max_length=8)  # "M.", "Mme", none = unknown (migration 0004)
    # The bilan's situation (migration 0005; states.situation): none = unknown, "à demander".
    children_at_home: int | None = None
    vehicles: int | None = None
    cadres: int | None = None
    # Folded search keys (migration 0010; store/search_columns.py, written with the names and the
    # phone by the write path and the import): 'helene leger', '0612345678'.
    search_name: str | None = None
    search_phone: str | None = Field(default=None, max_length=32)


class Contract(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="client.id")  # indexed with status and family: see below
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
    # With window_end (migration 0010): late cases (state, agency, window's end) are counted in it.
    __table_args__ = (Index("ix_case_state_agency_window", "state", "agency_id", "window_end"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="client.id", index=True)
    agency_id: str = Field(foreign_key="agency.id")
    cohort_month: str = Field(max_length=7, index=True)  # "2026-04"
    due_date: date
    window_start: date
    window_end: date
    state: str = Field(default="a_contacter", max_length=32)
    closing_reason: str | None = Field(default=None, max_length=16)
    assigned_advisor_id: int | None = Field(default=None, foreign_key="advisor.id")  # ix_case_advisor_state
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
    # Frozen at opening (migration 0007, store.cases): the distinct families of the client's active
    # contracts then (the multi-equipment rate's "before"), and the priority's parts
    # {"family": n, "kind": n, "premium": n}, so the case can say why it comes first.
    families_before: int | None = None
    priority_parts: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The contracts' checklists, counted (migration 0010; store/completeness.py keeps them with every
    # change of a requirement, a contract, a product or a kind): what the statistics add up.
    documents_required: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    documents_satisfied: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


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
    # Migration 0003: who placed it and, for an outbound call, why (states/calls.py).
    direction: str = Field(default="outbound", max_length=8,
                           sa_column_kwargs={"server_default": "outbound"})  # outbound / inbound
    basis: str | None = Field(default=None, max_length=16)  # solicitation / appointment; none: not a call
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")


class Appointment(SQLModel, table=True):
    """An appointment the client agreed to (migration 0003): the proof of consent for its call.

    `at` is UTC; the client's time zone (from the postal code) is used to show it and check it.
    `status` is scheduled / done / cancelled; "missed" is derived (states.appointments.status_at).
    """

    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_advisor_at", "advisor_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    channel: str = Field(max_length=8)  # phone / agency / video
    client_agreed: bool = True
    status: str = Field(default="scheduled", max_length=16)
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")
    cancel_reason: str | None = None
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class InventoryLine(SQLModel, table=True):
    __tablename__ = "inventory_line"
    # One "chez nous" line per contract of ours (pre-filled, migration 0005); other lines have none.
    __table_args__ = (Index("uq_inventory_case_contract", "case_id", "contract_id", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    family: str = Field(max_length=16)
    product: str
    held: str = Field(max_length=16)  # chez_nous / ailleurs
    insurer: str | None = None
    renewal_date: date | None = None
    created_at: datetime | None = _ts()
    contract_id: str | None = Field(default=None, max_length=64)  # pre-filled from this contract (chez nous)


class BilanOutcome(SQLModel, table=True):
    __tablename__ = "bilan_outcome"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id")  # indexed with what the statistics count (migration 0010)
    kind: str = Field(max_length=32)
    detail: str | None = None
    created_at: datetime | None = _ts()
    # What the outcome implies (migration 0005; states/bilan.py). No foreign keys: the domain checks
    # the links within the case, and SQLite cannot add a constraint to an existing column.
    suggestion_code: str | None = Field(default=None, max_length=64)
    client_decision: str | None = Field(default=None, max_length=16)  # accepted / refused / to_think
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # technical_question
    topic_id: int | None = None  # the case_topic it answers
    action_id: int | None = None  # the planned_action (devis, avenant) it led to
    correction_seq: int | None = None  # the audit seq of the client correction (situation_change)


class PlannedAction(SQLModel, table=True):
    __tablename__ = "planned_action"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id")  # indexed with what the statistics count (migration 0010)
    kind: str = Field(max_length=16)  # devis / rdv / envoi / relance
    label: str | None = None
    owner_id: int | None = Field(default=None, foreign_key="advisor.id", index=True)
    due_date: date | None = None
    status: str = Field(default="open", max_length=16)
    created_at: datetime | None = _ts()
    devis_status: str | None = Field(default=None, max_length=16)  # devis: propose/envoye/signe/refuse (0005)


class BilanSuggestionDecision(SQLModel, table=True):
    """The advisor's decision on a gap suggestion of the case: accepted (its need and devis) or
    dismissed (with the reason). One per suggestion code and case (migration 0005)."""

    __tablename__ = "bilan_suggestion_decision"
    __table_args__ = (UniqueConstraint("case_id", "code", name="uq_suggestion_decision_case_code"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id")
    code: str = Field(max_length=64)
    decision: str = Field(max_length=16)  # accepted / dismissed
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    outcome_id: int | None = None
    action_id: int | None = None
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BilanRecord(SQLModel, table=True):
    """A frozen bilan (DDA proof): written once by terminer_bilan, its content never updated; its
    sha256 is in the audit record of that change (audit_seq). Only the sending marks change."""

    __tablename__ = "bilan_record"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_bilan_record_case_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id")
    seq: int  # 1, 2... within the case
    made_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(max_length=100)
    audit_seq: int
    content: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_sha256: str = Field(max_length=64)
    sent_at: datetime | None = _ts()  # last emailed (queued in the outbox) at
    sent_to: str | None = Field(default=None, max_length=320)


class CaseNote(SQLModel, table=True):
    """A free-text note on a case (never a health detail, RGPD art. 9); never edited (migration 0004)."""

    __tablename__ = "case_note"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=100)  # the actor, as in the audit trail ("user:marie")
    created_at: datetime | None = _ts()


class CaseTopic(SQLModel, table=True):
    """A claim (sinistre) or a question since the subscription, open until answered (migration 0004)."""

    __tablename__ = "case_topic"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    kind: str = Field(max_length=16)  # sinistre / question
    occurred_on: date
    summary: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)  # open / answered
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = _ts()
    author: str = Field(max_length=100)
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
    redacted_at: datetime | None = _ts()  # RGPD redaction blanked `changes` and `reason` (store.redaction)


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
    # A letter (channel letter) printed and posted by the agency (migration 0008; states/letters.py).
    posted_on: date | None = None


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
    # The pages' login (migration 0008): an argon2 hash, never the password; none = no page login.
    password_hash: str | None = Field(default=None, max_length=200)
    password_changed_at: datetime | None = _ts()


class ClientCorrection(SQLModel, table=True):
    """A CRM field of a client corrected through the write path, with the CRM value it replaced
    (migration 0006). The import keeps the corrected value while the CRM still sends
    `crm_value_before`, and drops the row when the CRM sends anything else (states.corrections).
    Values are canonical text (states.corrections.crm_text). `exported_at`: when the correction
    was last sent back to the CRM (NULL: not yet; a new correction of the field resets it)."""

    __tablename__ = "client_correction"
    client_id: str = Field(foreign_key="client.id", primary_key=True, max_length=64)
    field: str = Field(primary_key=True, max_length=32)
    crm_value_before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    corrected_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    corrected_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    case_id: int = Field(foreign_key="followup_case.id", index=True)  # the case whose trail holds it
    audit_seq: int  # the audit record of that case that made it
    exported_at: datetime | None = _ts(index=True)


class AccessRequest(SQLModel, table=True):
    """A right-of-access request (RGPD art. 15) of one client, to answer within one month
    (migration 0008). Open while `answered_at` is NULL; the compliance page lists it until then."""

    __tablename__ = "access_request"
    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=64)
    received_on: date  # the day the request reached the agency: the month runs from it
    due_on: date = Field(index=True)  # received_on + 1 month (same day, or the month's last day)
    channel: str = Field(max_length=16)  # courrier / email / agence / telephone
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # never a health detail
    recorded_by: str = Field(max_length=100)  # the user, as the audit trail names them
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    answered_at: datetime | None = _ts()
    answered_by: str | None = Field(default=None, max_length=100)
    answer_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AuthFailure(SQLModel, table=True):
    """One failed token or password check (migration 0011), counted by store/auth_limits.py so
    every server process shares the rate limits. `key` is a sha256 of the limit's key: no
    username, token id or address in clear. `at`: epoch seconds. Rows older than their window
    are deleted as the key is hit, and every row after 24 hours."""

    __tablename__ = "auth_failure"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    at: float = Field(sa_column=Column(Double(), nullable=False))
    __table_args__ = (Index("ix_auth_failure_key_at", "key", "at"),)


# Lists at 100,000 cases (migration 0010, docs/performance-pages.md): each index matches a list's
# filter and sort, so a page reads its rows in order instead of sorting every case of the agency.
# Only columns a change seldom writes (never version or updated_at): the write path's UPDATE of
# a case leaves them alone (SQLite) and stays a HOT update (PostgreSQL).
_CASE_T = FollowupCase.__table__
Index("ix_case_agency_priority", _CASE_T.c.agency_id, _CASE_T.c.priority.desc(), _CASE_T.c.due_date, _CASE_T.c.id)
Index("ix_case_priority", _CASE_T.c.priority.desc(), _CASE_T.c.due_date, _CASE_T.c.id)
Index("ix_case_agency_due", _CASE_T.c.agency_id, _CASE_T.c.due_date, _CASE_T.c.id)
Index("ix_case_agency_window", _CASE_T.c.agency_id, _CASE_T.c.window_end, _CASE_T.c.priority.desc(), _CASE_T.c.id)
# The statistics (api/queries/stats.py): the groups (month, advisor, state) in order, so GROUP BY
# sorts nothing, and every column the figures read, so no case row is fetched. Also the months
# of an agency. Rewritten when a case changes state, is reached, done or gets a document.
Index("ix_case_stats", _CASE_T.c.agency_id, _CASE_T.c.cohort_month, _CASE_T.c.assigned_advisor_id, _CASE_T.c.state,
      _CASE_T.c.reached_at, _CASE_T.c.window_start, _CASE_T.c.window_end, _CASE_T.c.bilan_at, _CASE_T.c.late,
      _CASE_T.c.families_before, _CASE_T.c.documents_required, _CASE_T.c.documents_satisfied, _CASE_T.c.client_id)
# A client's contracts (every look-up by client), with what the statistics ask of them: whether
# the client's active contracts span two families ("multi-équipement après", one index search
# per bilan, no contract row read: migration 0013, docs/performance-pages.md).
Index("ix_contract_client_status_family", Contract.__table__.c.client_id, Contract.__table__.c.status,
      Contract.__table__.c.family)
# Outcomes and actions by case with what the statistics count of them (no row fetched).
Index("ix_bilan_outcome_case_kind", BilanOutcome.__table__.c.case_id, BilanOutcome.__table__.c.kind)
Index("ix_planned_action_case_kind", PlannedAction.__table__.c.case_id, PlannedAction.__table__.c.kind,
      PlannedAction.__table__.c.status, PlannedAction.__table__.c.devis_status)
# "Mes dossiers": an advisor's cases per state, in the list's order (priority, window's end).
Index("ix_case_advisor_state", _CASE_T.c.assigned_advisor_id, _CASE_T.c.state, _CASE_T.c.priority.desc(),
      _CASE_T.c.window_end, _CASE_T.c.id)
Index("ix_appointment_status_at", Appointment.__table__.c.status, Appointment.__table__.c.at)
# The client search: SQLite scans this narrow index (LIKE '%...%' cannot seek a B-tree);
# PostgreSQL looks the words up in a trigram index (pg_trgm, created by migration 0010).
_CLIENT_T = Client.__table__
Index("ix_client_search", _CLIENT_T.c.search_name, _CLIENT_T.c.search_phone, _CLIENT_T.c.id).ddl_if(dialect="sqlite")
Index("ix_client_search_trgm", _CLIENT_T.c.search_name, _CLIENT_T.c.search_phone, postgresql_using="gin",
      postgresql_ops={"search_name": "gin_trgm_ops", "search_phone": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
