"""lists at 100,000 cases: indexes, folded search columns, stored completeness

Revision ID: 0010
Revises: 0009

What and why: docs/performance-pages.md. Existing rows get their derived values here: each
client's folded search keys (store/search_columns.py) and each case's document counts
(store/completeness.py), computed with the application's own functions.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import store.types  # noqa: F401


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# (name, columns): each matches a list's filter and sort (store/tables.py says which).
_CASE_INDEXES = [
    ('ix_case_state_agency_window', ['state', 'agency_id', 'window_end']),
    ('ix_case_agency_priority', ['agency_id', sa.text('priority DESC'), 'due_date', 'id']),
    ('ix_case_priority', [sa.text('priority DESC'), 'due_date', 'id']),
    ('ix_case_agency_due', ['agency_id', 'due_date', 'id']),
    ('ix_case_agency_window', ['agency_id', 'window_end', sa.text('priority DESC'), 'id']),

    ('ix_case_advisor_state', ['assigned_advisor_id', 'state', sa.text('priority DESC'), 'window_end', 'id']),
]


def _search_columns_up() -> None:
    """The client's folded search keys (states/search.py), computed for the clients already there."""
    with op.batch_alter_table('client') as batch:
        batch.add_column(sa.Column('search_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('search_phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    from store.search_columns import keys

    conn = op.get_bind()
    client = sa.table('client', sa.column('id'), sa.column('first_name'), sa.column('last_name'),
                      sa.column('company_name'), sa.column('phone'), sa.column('search_name'),
                      sa.column('search_phone'))
    stmt = client.update().where(client.c.id == sa.bindparam('w_id')).values(
        search_name=sa.bindparam('search_name'), search_phone=sa.bindparam('search_phone'))
    last = None
    while True:  # in batches of ids: a book of 600,000 clients never sits in memory at once
        q = sa.select(client.c.id, client.c.first_name, client.c.last_name, client.c.company_name,
                      client.c.phone).order_by(client.c.id).limit(5000)
        rows = conn.execute(q if last is None else q.where(client.c.id > last)).all()
        if not rows:
            break
        conn.execute(stmt, [{'w_id': r[0], **keys(*r[1:])} for r in rows])
        last = rows[-1][0]
    if conn.dialect.name == 'postgresql':
        # A trigram index finds '%helene%' without reading every client. pg_trgm ships with
        # PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.
        # Where it cannot be created, a plain index of the same name (scanned, not searched).
        try:
            with conn.begin_nested():
                conn.exec_driver_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        except sa.exc.DBAPIError:
            op.create_index('ix_client_search_trgm', 'client', ['search_name', 'search_phone'])
        else:
            op.create_index('ix_client_search_trgm', 'client', ['search_name', 'search_phone'],
                            postgresql_using='gin',
                            postgresql_ops={'search_name': 'gin_trgm_ops', 'search_phone': 'gin_trgm_ops'})
    else:
        op.create_index('ix_client_search', 'client', ['search_name', 'search_phone', 'id'])


def _search_columns_down() -> None:
    conn = op.get_bind()
    op.drop_index('ix_client_search_trgm' if conn.dialect.name == 'postgresql' else 'ix_client_search',
                  table_name='client')
    with op.batch_alter_table('client') as batch:
        batch.drop_column('search_phone')
        batch.drop_column('search_name')


def _completeness_up() -> None:
    """Each case's documents required and satisfied (the statistics add them up)."""
    with op.batch_alter_table('followup_case') as batch:
        batch.add_column(sa.Column('documents_required', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('documents_satisfied', sa.Integer(), server_default='0', nullable=False))
    from store import completeness

    completeness.refresh_all(op.get_bind())


def _completeness_down() -> None:
    with op.batch_alter_table('followup_case') as batch:
        batch.drop_column('documents_satisfied')
        batch.drop_column('documents_required')


# The statistics' indexes (store/tables.py): they need the document counts, added first.
_STATS_INDEXES = [
    ('followup_case', 'ix_case_stats', ['agency_id', 'cohort_month', 'assigned_advisor_id', 'state', 'reached_at',
                                        'window_start', 'window_end', 'bilan_at', 'late', 'families_before',
                                        'documents_required', 'documents_satisfied', 'client_id']),
    ('bilan_outcome', 'ix_bilan_outcome_case_kind', ['case_id', 'kind']),
    ('planned_action', 'ix_planned_action_case_kind', ['case_id', 'kind', 'status', 'devis_status']),
]
# What these replace (migration 0001's): each one a prefix of its replacement.
_REPLACED = [('followup_case', 'ix_case_state_agency', ['state', 'agency_id']),
             ('followup_case', 'ix_followup_case_assigned_advisor_id', ['assigned_advisor_id']),
             ('bilan_outcome', 'ix_bilan_outcome_case_id', ['case_id']),
             ('planned_action', 'ix_planned_action_case_id', ['case_id'])]


def _list_indexes_up() -> None:
    for table, name, _ in _REPLACED:
        op.drop_index(name, table_name=table)
    for name, columns in _CASE_INDEXES:
        op.create_index(name, 'followup_case', columns)
    op.create_index('ix_appointment_status_at', 'appointment', ['status', 'at'])


def _list_indexes_down() -> None:
    op.drop_index('ix_appointment_status_at', table_name='appointment')
    for name, _ in reversed(_CASE_INDEXES):
        op.drop_index(name, table_name='followup_case')
    for table, name, columns in _REPLACED:
        op.create_index(name, table, columns)


def _stats_indexes_up() -> None:
    for table, name, columns in _STATS_INDEXES:
        op.create_index(name, table, columns)


def _stats_indexes_down() -> None:
    for table, name, _ in reversed(_STATS_INDEXES):
        op.drop_index(name, table_name=table)


def upgrade() -> None:
    _list_indexes_up()
    _search_columns_up()
    _completeness_up()
    _stats_indexes_up()


def downgrade() -> None:
    _stats_indexes_down()
    _completeness_down()
    _search_columns_down()
    _list_indexes_down()
