"""notes, claims and questions; advisors' names and titles; civility; agency data

- case_note: free-text notes on a case (audited with their text, never edited);
- case_topic: claims (sinistres) and questions since the subscription, open or answered;
- advisor.first_name / last_name / title: the display name and title letters print. Existing
  advisors get first and last name split from `name` (states.people.split_full_name), which
  stays the CRM's name the import matches on;
- client.civility: "M.", "Mme" or unknown.

`followup_case.late` keeps its name and its meaning, *rattrapé* (opened by catch-up): the
opening audit records carry it under that key (their hashes are frozen), and the code reads it
as `caught_up`. *En retard* is computed, never stored (states/lateness.py).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import store.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['followup_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_note_case_id'), ['case_id'], unique=False)

    op.create_table('case_topic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['followup_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_topic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_topic_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('advisor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('civility', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))

    # The advisors already known get their first and last names from their one `name`.
    from states.people import ADVISOR_NAME_LIMIT, split_full_name

    conn = op.get_bind()
    advisor = sa.table('advisor', sa.column('id', sa.Integer), sa.column('name', sa.String),
                       sa.column('first_name', sa.String), sa.column('last_name', sa.String))
    for advisor_id, name in conn.execute(sa.select(advisor.c.id, advisor.c.name)).all():
        first, last = split_full_name(name or "")
        conn.execute(sa.update(advisor).where(advisor.c.id == advisor_id).values(
            first_name=first[:ADVISOR_NAME_LIMIT] if first else None,
            last_name=last[:ADVISOR_NAME_LIMIT] if last else None))


def downgrade() -> None:
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('civility')

    with op.batch_alter_table('advisor', schema=None) as batch_op:
        batch_op.drop_column('title')
        batch_op.drop_column('last_name')
        batch_op.drop_column('first_name')

    with op.batch_alter_table('case_topic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_topic_case_id'))
    op.drop_table('case_topic')

    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_note_case_id'))
    op.drop_table('case_note')
