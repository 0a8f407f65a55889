"""corrections: field provenance for the import, frozen multi-equipment, cohort joins

Revision ID: 0006
Revises: 0005
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import store.types  # noqa: F401


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The CRM fields corrected through the write path, with the CRM value each replaced: the
    # import keeps a correction while the CRM still sends that value (states/corrections.py).
    op.create_table('client_correction',
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('crm_value_before', sa.Text(), nullable=True),
    sa.Column('corrected_value', sa.Text(), nullable=True),
    sa.Column('corrected_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('exported_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['followup_case.id'], ),
    sa.PrimaryKeyConstraint('client_id', 'field')
    )
    with op.batch_alter_table('client_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_correction_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_correction_exported_at'), ['exported_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('client_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_correction_exported_at'))
        batch_op.drop_index(batch_op.f('ix_client_correction_case_id'))
    op.drop_table('client_correction')
