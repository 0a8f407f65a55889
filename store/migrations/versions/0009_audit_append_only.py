"""the audit trail refuses UPDATE, DELETE and TRUNCATE in the database; RGPD redaction

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

import store.types
from store import audit_guard

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_record') as batch:
        batch.add_column(sa.Column('redacted_at', store.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table('audit_redaction_grant', sa.Column('record_id', sa.Integer(), primary_key=True))
    audit_guard.install(op.get_bind())


def downgrade() -> None:
    audit_guard.uninstall(op.get_bind())
    op.drop_table('audit_redaction_grant')
    with op.batch_alter_table('audit_record') as batch:
        batch.drop_column('redacted_at')
