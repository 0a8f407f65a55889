"""the pages: passwords, sessions, right-of-access requests, letters posted

Revision ID: 0008
Revises: 0007
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import store.types  # noqa: F401


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


# Each part of issue 8 adds its own pair of functions below and one call in upgrade/downgrade.

def _passwords_up() -> None:
    """Page logins: an argon2 password hash per user (none: no page login) and when it changed."""
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch.add_column(sa.Column('password_changed_at', store.types.UTCDateTime(timezone=True), nullable=True))


def _passwords_down() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('password_changed_at')
        batch.drop_column('password_hash')


def _access_requests_up() -> None:
    """Right-of-access requests (RGPD art. 15): recorded with their one-month due date, open until answered."""
    op.create_table('access_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('recorded_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('answer_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_request_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_request_due_on'), ['due_on'], unique=False)


def _access_requests_down() -> None:
    with op.batch_alter_table('access_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_request_due_on'))
        batch_op.drop_index(batch_op.f('ix_access_request_client_id'))
    op.drop_table('access_request')


def _letters_posted_up() -> None:
    """The day a printed letter was posted (states/letters.py): the escalation counts from it."""
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('posted_on', sa.Date(), nullable=True))


def _letters_posted_down() -> None:
    with op.batch_alter_table('notification') as batch:
        batch.drop_column('posted_on')


def upgrade() -> None:
    _passwords_up()
    _access_requests_up()
    _letters_posted_up()


def downgrade() -> None:
    _letters_posted_down()
    _access_requests_down()
    _passwords_down()
