"""calls as they happen: direction, basis, appointments

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('client_agreed', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('advisor_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['advisor_id'], ['advisor.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['followup_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_appointment_advisor_at', ['advisor_id', 'at'], unique=False)

    # Existing attempts were recorded as outbound solicitations (the strictest reading): the
    # server default says so for every old row; basis stays NULL, which the domain reads the same.
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                      server_default='outbound'))
        batch_op.add_column(sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_contact_attempt_appointment_id', 'appointment', ['appointment_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contact_attempt_appointment_id', type_='foreignkey')
        batch_op.drop_column('appointment_id')
        batch_op.drop_column('basis')
        batch_op.drop_column('direction')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_advisor_at')
        batch_op.drop_index(batch_op.f('ix_appointment_case_id'))
    op.drop_table('appointment')
