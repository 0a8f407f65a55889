"""the bilan that finds gaps: situation, suggestions, devis status, frozen bilan records

- client.children_at_home / vehicles / cadres: the situation the gap rules read (unknown = null);
- inventory_line.contract_id: the "chez nous" line pre-filled from a contract of ours, unique
  per case (a re-run adds nothing twice);
- bilan_outcome: what an outcome implies (suggestion_code, client_decision, answer, topic_id,
  action_id, correction_seq);
- planned_action.devis_status: proposé / envoyé / signé / refusé (conversion figure);
- bilan_suggestion_decision: the advisor's decision on each gap suggestion;
- bilan_record: the frozen, dated bilan (DDA proof), its content never updated.
Existing devis actions get devis_status "propose" (they were proposals: nothing said more).

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('children_at_home', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('vehicles', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cadres', sa.Integer(), nullable=True))

    with op.batch_alter_table('inventory_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contract_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index('uq_inventory_case_contract', ['case_id', 'contract_id'], unique=True)

    with op.batch_alter_table('bilan_outcome', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggestion_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('client_decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('answer', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('topic_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('action_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('correction_seq', sa.Integer(), nullable=True))

    with op.batch_alter_table('planned_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('devis_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.execute("UPDATE planned_action SET devis_status = 'propose' WHERE kind = 'devis' AND devis_status IS NULL")

    op.create_table('bilan_suggestion_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('outcome_id', sa.Integer(), nullable=True),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['followup_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'code', name='uq_suggestion_decision_case_code')
    )

    op.create_table('bilan_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('made_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sent_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_to', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['followup_case.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'seq', name='uq_bilan_record_case_seq')
    )


def downgrade() -> None:
    op.drop_table('bilan_record')
    op.drop_table('bilan_suggestion_decision')
    with op.batch_alter_table('planned_action', schema=None) as batch_op:
        batch_op.drop_column('devis_status')
    with op.batch_alter_table('bilan_outcome', schema=None) as batch_op:
        for name in ('correction_seq', 'action_id', 'topic_id', 'answer', 'client_decision', 'suggestion_code'):
            batch_op.drop_column(name)
    with op.batch_alter_table('inventory_line', schema=None) as batch_op:
        batch_op.drop_index('uq_inventory_case_contract')
        batch_op.drop_column('contract_id')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('cadres')
        batch_op.drop_column('vehicles')
        batch_op.drop_column('children_at_home')
