"""The tables, as plain SQLAlchemy Core: GENERATED from store/models.py by `python -m store.tables_build`.

Do not edit: change store/models.py (the one definition, with the why of each column) and rerun the
command; tests/unit/test_tables__generated.py fails while this file is not current. Each class is
a `TableClass` (store/table_class.py): `Agency.__table__`, `Agency.name`, `select(Agency)` read as
with the SQLModel classes, without building pydantic models or ORM mappers at import.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, Double, ForeignKey, Index, Integer, MetaData, Numeric, String
from sqlalchemy import Table, Text, UniqueConstraint

from store.table_class import TableClass
from store.types import UTCDateTime

metadata = MetaData()


class Agency(TableClass):
    __table__ = Table(
        'agency', metadata,
        Column('id', String(32), primary_key=True),
        Column('name', String(100), nullable=False),
    )


class Advisor(TableClass):
    __table__ = Table(
        'advisor', metadata,
        Column('id', Integer(), primary_key=True),
        Column('name', String(200), nullable=False, unique=True),
        Column('email', String(254)),
        Column('agency_id', String(), ForeignKey('agency.id'), nullable=False, index=True),
        Column('active', Boolean(), nullable=False, default=True),
        Column('first_name', String(100)),
        Column('last_name', String(100)),
        Column('title', String(100)),
    )


class Client(TableClass):
    __table__ = Table(
        'client', metadata,
        Column('id', String(64), primary_key=True),
        Column('kind', String(16), nullable=False),
        Column('last_name', String()),
        Column('first_name', String()),
        Column('company_name', String()),
        Column('address', String()),
        Column('postal_code', String(16)),
        Column('city', String()),
        Column('phone', String(64)),
        Column('email', String(320)),
        Column('marital_status', String()),
        Column('professional_status', String()),
        Column('siret', String(32)),
        Column('naf_code', String(16)),
        Column('naf_nomenclature', String(16)),
        Column('activity', String()),
        Column('turnover_eur', Numeric(14, 2)),
        Column('headcount', Integer()),
        Column('insurance_contact', String()),
        Column('housing_status', String(16)),
        Column('opposition_phone', Boolean(), nullable=False, default=False),
        Column('opposition_email', Boolean(), nullable=False, default=False),
        Column('opposition_letter', Boolean(), nullable=False, default=False),
        Column('agency_id', String(), ForeignKey('agency.id'), nullable=False, index=True),
        Column('advisor_id', Integer(), ForeignKey('advisor.id')),
        Column('source_hash', String(32)),
        Column('civility', String(8)),
        Column('children_at_home', Integer()),
        Column('vehicles', Integer()),
        Column('cadres', Integer()),
        Column('search_name', String()),
        Column('search_phone', String(32)),
    )


class Contract(TableClass):
    __table__ = Table(
        'contract', metadata,
        Column('id', String(64), primary_key=True),
        Column('client_id', String(), ForeignKey('client.id'), nullable=False),
        Column('family', String(16), nullable=False),
        Column('product', String(), nullable=False),
        Column('effective_date', Date(), nullable=False, index=True),
        Column('status', String(16), nullable=False),
        Column('seller_id', Integer(), ForeignKey('advisor.id')),
        Column('premium_eur', Numeric(12, 2)),
        Column('source_hash', String(32)),
    )


class ContractRequirement(TableClass):
    """A signature or document whose status was recorded; one not recorded is missing."""

    __table__ = Table(
        'contract_requirement', metadata,
        Column('contract_id', String(64), ForeignKey('contract.id'), primary_key=True),
        Column('code', String(64), primary_key=True),
        Column('status', String(16), nullable=False),
        Column('waiver_reason', String()),
        Column('updated_at', UTCDateTime()),
    )


class FollowupCase(TableClass):
    __table__ = Table(
        'followup_case', metadata,
        Column('id', Integer(), primary_key=True),
        Column('client_id', String(), ForeignKey('client.id'), nullable=False, index=True),
        Column('agency_id', String(), ForeignKey('agency.id'), nullable=False),
        Column('cohort_month', String(7), nullable=False, index=True),
        Column('due_date', Date(), nullable=False),
        Column('window_start', Date(), nullable=False),
        Column('window_end', Date(), nullable=False),
        Column('state', String(32), nullable=False, default='a_contacter'),
        Column('closing_reason', String(16)),
        Column('assigned_advisor_id', Integer(), ForeignKey('advisor.id')),
        Column('priority', Integer(), nullable=False, default=0),
        Column('escalation_step', Integer(), nullable=False, default=0),
        Column('escalated_at', UTCDateTime()),
        Column('late', Boolean(), nullable=False, default=False),
        Column('assignment_confirmed', Boolean(), nullable=False, default=False),
        Column('nothing_elsewhere', Boolean(), nullable=False, default=False),
        Column('reached_at', UTCDateTime()),
        Column('bilan_at', UTCDateTime()),
        Column('closed_at', UTCDateTime()),
        Column('created_at', UTCDateTime()),
        Column('updated_at', UTCDateTime()),
        Column('version', Integer(), nullable=False, default=1),
        Column('audit_seq', Integer(), nullable=False, default=0),
        Column('audit_head', String(64), nullable=False, default=''),
        Column('families_before', Integer()),
        Column('priority_parts', JSON()),
        Column('documents_required', Integer(), nullable=False, default=0, server_default='0'),
        Column('documents_satisfied', Integer(), nullable=False, default=0, server_default='0'),
    )


class CaseContract(TableClass):
    """Which contracts a case covers. A contract is followed up once: unique contract_id."""

    __table__ = Table(
        'case_contract', metadata,
        Column('case_id', Integer(), ForeignKey('followup_case.id'), primary_key=True),
        Column('contract_id', String(64), ForeignKey('contract.id'), primary_key=True, unique=True),
    )


class ContactAttempt(TableClass):
    __table__ = Table(
        'contact_attempt', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False, index=True),
        Column('channel', String(8), nullable=False),
        Column('at', UTCDateTime(), nullable=False),
        Column('advisor_id', Integer(), ForeignKey('advisor.id')),
        Column('outcome', String(16), nullable=False),
        Column('direction', String(8), nullable=False, default='outbound', server_default='outbound'),
        Column('basis', String(16)),
        Column('appointment_id', Integer(), ForeignKey('appointment.id')),
    )


class Appointment(TableClass):
    """An appointment the client agreed to (migration 0003): the proof of consent for its call.

    `at` is UTC; the client's time zone (from the postal code) is used to show it and check it.
    `status` is scheduled / done / cancelled; "missed" is derived (states.appointments.status_at)."""

    __table__ = Table(
        'appointment', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False, index=True),
        Column('at', UTCDateTime(), nullable=False),
        Column('channel', String(8), nullable=False),
        Column('client_agreed', Boolean(), nullable=False, default=True),
        Column('status', String(16), nullable=False, default='scheduled'),
        Column('advisor_id', Integer(), ForeignKey('advisor.id')),
        Column('cancel_reason', String()),
        Column('created_at', UTCDateTime()),
        Column('updated_at', UTCDateTime()),
    )


class InventoryLine(TableClass):
    __table__ = Table(
        'inventory_line', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False, index=True),
        Column('family', String(16), nullable=False),
        Column('product', String(), nullable=False),
        Column('held', String(16), nullable=False),
        Column('insurer', String()),
        Column('renewal_date', Date()),
        Column('created_at', UTCDateTime()),
        Column('contract_id', String(64)),
    )


class BilanOutcome(TableClass):
    __table__ = Table(
        'bilan_outcome', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False),
        Column('kind', String(32), nullable=False),
        Column('detail', String()),
        Column('created_at', UTCDateTime()),
        Column('suggestion_code', String(64)),
        Column('client_decision', String(16)),
        Column('answer', Text()),
        Column('topic_id', Integer()),
        Column('action_id', Integer()),
        Column('correction_seq', Integer()),
    )


class PlannedAction(TableClass):
    __table__ = Table(
        'planned_action', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False),
        Column('kind', String(16), nullable=False),
        Column('label', String()),
        Column('owner_id', Integer(), ForeignKey('advisor.id'), index=True),
        Column('due_date', Date()),
        Column('status', String(16), nullable=False, default='open'),
        Column('created_at', UTCDateTime()),
        Column('devis_status', String(16)),
    )


class BilanSuggestionDecision(TableClass):
    """The advisor's decision on a gap suggestion of the case: accepted (its need and devis) or
    dismissed (with the reason). One per suggestion code and case (migration 0005)."""

    __table__ = Table(
        'bilan_suggestion_decision', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False),
        Column('code', String(64), nullable=False),
        Column('decision', String(16), nullable=False),
        Column('reason', Text()),
        Column('outcome_id', Integer()),
        Column('action_id', Integer()),
        Column('at', UTCDateTime(), nullable=False),
        UniqueConstraint('case_id', 'code', name='uq_suggestion_decision_case_code'),
    )


class BilanRecord(TableClass):
    """A frozen bilan (DDA proof): written once by terminer_bilan, its content never updated; its
    sha256 is in the audit record of that change (audit_seq). Only the sending marks change."""

    __table__ = Table(
        'bilan_record', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False),
        Column('seq', Integer(), nullable=False),
        Column('made_at', UTCDateTime(), nullable=False),
        Column('actor', String(100), nullable=False),
        Column('audit_seq', Integer(), nullable=False),
        Column('content', JSON(), nullable=False),
        Column('content_sha256', String(64), nullable=False),
        Column('sent_at', UTCDateTime()),
        Column('sent_to', String(320)),
        UniqueConstraint('case_id', 'seq', name='uq_bilan_record_case_seq'),
    )


class CaseNote(TableClass):
    """A free-text note on a case (never a health detail, RGPD art. 9); never edited (migration 0004)."""

    __table__ = Table(
        'case_note', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False, index=True),
        Column('text', Text(), nullable=False),
        Column('author', String(100), nullable=False),
        Column('created_at', UTCDateTime()),
    )


class CaseTopic(TableClass):
    """A claim (sinistre) or a question since the subscription, open until answered (migration 0004)."""

    __table__ = Table(
        'case_topic', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False, index=True),
        Column('kind', String(16), nullable=False),
        Column('occurred_on', Date(), nullable=False),
        Column('summary', Text(), nullable=False),
        Column('status', String(16), nullable=False, default='open'),
        Column('answer', Text()),
        Column('answered_at', UTCDateTime()),
        Column('author', String(100), nullable=False),
        Column('created_at', UTCDateTime()),
    )


class AuditRecord(TableClass):
    """Append-only. `hash` = sha256(prev_hash + canonical JSON of the record): see store.audit."""

    __table__ = Table(
        'audit_record', metadata,
        Column('id', Integer(), primary_key=True),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False),
        Column('seq', Integer(), nullable=False),
        Column('at', UTCDateTime(), nullable=False),
        Column('actor', String(100), nullable=False),
        Column('action', String(64), nullable=False),
        Column('changes', JSON(), nullable=False),
        Column('reason', String()),
        Column('prev_hash', String(64), nullable=False),
        Column('hash', String(64), nullable=False),
        Column('redacted_at', UTCDateTime()),
        UniqueConstraint('case_id', 'seq', name='uq_audit_case_seq'),
    )


class AuditRedactionGrant(TableClass):
    """A record the redaction in progress may blank: the database triggers allow nothing else."""

    __table__ = Table(
        'audit_redaction_grant', metadata,
        Column('record_id', Integer(), primary_key=True),
    )


class Notification(TableClass):
    """The transactional outbox: written in the same transaction as the change that causes it."""

    __table__ = Table(
        'notification', metadata,
        Column('id', Integer(), primary_key=True),
        Column('dedupe_key', String(200), nullable=False),
        Column('kind', String(32), nullable=False),
        Column('channel', String(8), nullable=False),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), index=True),
        Column('recipient', String()),
        Column('payload', JSON(), nullable=False),
        Column('status', String(16), nullable=False, default='pending', index=True),
        Column('attempts', Integer(), nullable=False, default=0),
        Column('next_attempt_at', UTCDateTime()),
        Column('last_error', String()),
        Column('message_id', String(200)),
        Column('created_at', UTCDateTime()),
        Column('sent_at', UTCDateTime()),
        Column('posted_on', Date()),
        UniqueConstraint('dedupe_key', name='uq_notification_dedupe'),
    )


class AppUser(TableClass):
    """A person who signs in to the API. The token's secret is never stored: only its argon2 hash.

    A token reads `m3_<token_id>.<secret>`: `token_id` is public and unique (the lookup key),
    the secret is checked against `token_hash`."""

    __table__ = Table(
        'app_user', metadata,
        Column('id', Integer(), primary_key=True),
        Column('username', String(100), nullable=False, unique=True),
        Column('role', String(16), nullable=False),
        Column('agency_id', String(), ForeignKey('agency.id')),
        Column('advisor_id', Integer(), ForeignKey('advisor.id')),
        Column('token_id', String(32), nullable=False, unique=True),
        Column('token_hash', String(200), nullable=False),
        Column('active', Boolean(), nullable=False, default=True),
        Column('created_at', UTCDateTime()),
        Column('password_hash', String(200)),
        Column('password_changed_at', UTCDateTime()),
    )


class ClientCorrection(TableClass):
    """A CRM field of a client corrected through the write path, with the CRM value it replaced
    (migration 0006). The import keeps the corrected value while the CRM still sends
    `crm_value_before`, and drops the row when the CRM sends anything else (states.corrections).
    Values are canonical text (states.corrections.crm_text). `exported_at`: when the correction
    was last sent back to the CRM (NULL: not yet; a new correction of the field resets it)."""

    __table__ = Table(
        'client_correction', metadata,
        Column('client_id', String(64), ForeignKey('client.id'), primary_key=True),
        Column('field', String(32), primary_key=True),
        Column('crm_value_before', Text()),
        Column('corrected_value', Text()),
        Column('corrected_at', UTCDateTime(), nullable=False),
        Column('case_id', Integer(), ForeignKey('followup_case.id'), nullable=False, index=True),
        Column('audit_seq', Integer(), nullable=False),
        Column('exported_at', UTCDateTime(), index=True),
    )


class AccessRequest(TableClass):
    """A right-of-access request (RGPD art. 15) of one client, to answer within one month
    (migration 0008). Open while `answered_at` is NULL; the compliance page lists it until then."""

    __table__ = Table(
        'access_request', metadata,
        Column('id', Integer(), primary_key=True),
        Column('client_id', String(64), ForeignKey('client.id'), nullable=False, index=True),
        Column('received_on', Date(), nullable=False),
        Column('due_on', Date(), nullable=False, index=True),
        Column('channel', String(16), nullable=False),
        Column('note', Text()),
        Column('recorded_by', String(100), nullable=False),
        Column('recorded_at', UTCDateTime(), nullable=False),
        Column('answered_at', UTCDateTime()),
        Column('answered_by', String(100)),
        Column('answer_note', Text()),
    )


class AuthFailure(TableClass):
    """One failed token or password check (migration 0011), counted by store/auth_limits.py so
    every server process shares the rate limits. `key` is a sha256 of the limit's key: no
    username, token id or address in clear. `at`: epoch seconds. Rows older than their window
    are deleted as the key is hit, and every row after 24 hours."""

    __table__ = Table(
        'auth_failure', metadata,
        Column('id', Integer(), primary_key=True),
        Column('key', String(64), nullable=False),
        Column('at', Double(), nullable=False),
    )


# Indexes other than a column's own (index=True), as store/models.py declares them.
Index('ix_client_search', Client.search_name, Client.search_phone, Client.id).ddl_if(dialect='sqlite')
Index(
    'ix_client_search_trgm',
    Client.search_name,
    Client.search_phone,
    postgresql_ops={'search_name': 'gin_trgm_ops', 'search_phone': 'gin_trgm_ops'},
    postgresql_using='gin',
).ddl_if(dialect='postgresql')
Index('ix_contract_client_status_family', Contract.client_id, Contract.status, Contract.family)
Index(
    'ix_case_advisor_state',
    FollowupCase.assigned_advisor_id,
    FollowupCase.state,
    FollowupCase.priority.desc(),
    FollowupCase.window_end,
    FollowupCase.id,
)
Index('ix_case_agency_due', FollowupCase.agency_id, FollowupCase.due_date, FollowupCase.id)
Index(
    'ix_case_agency_priority',
    FollowupCase.agency_id,
    FollowupCase.priority.desc(),
    FollowupCase.due_date,
    FollowupCase.id,
)
Index(
    'ix_case_agency_window',
    FollowupCase.agency_id,
    FollowupCase.window_end,
    FollowupCase.priority.desc(),
    FollowupCase.id,
)
Index('ix_case_priority', FollowupCase.priority.desc(), FollowupCase.due_date, FollowupCase.id)
Index('ix_case_state_agency_window', FollowupCase.state, FollowupCase.agency_id, FollowupCase.window_end)
Index(
    'ix_case_stats',
    FollowupCase.agency_id,
    FollowupCase.cohort_month,
    FollowupCase.assigned_advisor_id,
    FollowupCase.state,
    FollowupCase.reached_at,
    FollowupCase.window_start,
    FollowupCase.window_end,
    FollowupCase.bilan_at,
    FollowupCase.late,
    FollowupCase.families_before,
    FollowupCase.documents_required,
    FollowupCase.documents_satisfied,
    FollowupCase.client_id,
)
Index('ix_appointment_advisor_at', Appointment.advisor_id, Appointment.at)
Index('ix_appointment_status_at', Appointment.status, Appointment.at)
Index('uq_inventory_case_contract', InventoryLine.case_id, InventoryLine.contract_id, unique=True)
Index('ix_bilan_outcome_case_kind', BilanOutcome.case_id, BilanOutcome.kind)
Index(
    'ix_planned_action_case_kind',
    PlannedAction.case_id,
    PlannedAction.kind,
    PlannedAction.status,
    PlannedAction.devis_status,
)
Index('ix_auth_failure_key_at', AuthFailure.key, AuthFailure.at)
