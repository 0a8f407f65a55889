"""cohort corrections: priority parts, multi-equipment before, joins

Revision ID: 0007
Revises: 0006

Two columns on the case, frozen when it opens (store.cases.opening_rows):
- `families_before`: distinct families of the client's active contracts at opening, the
  multi-equipment rate's "before" (api/queries/stats.py);
- `priority_parts`: the priority score's parts {"family", "kind", "premium"} (flows/cohort.py).
Joins (a new contract joining an open case) need no schema: a `case_contract` row and a
`pieces` action, both existing tables.

Existing cases: `families_before` is backfilled from the client's contracts active now and in
effect on the window's first day (the best the data allows: a contract cancelled since is not
known); `priority_parts` stays NULL (the weights of the day are not known), which the case
detail shows as not recorded.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import store.types  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('followup_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('families_before', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('priority_parts', sa.JSON(), nullable=True))
    op.execute(
        "UPDATE followup_case SET families_before = ("
        " SELECT COUNT(DISTINCT k.family) FROM contract k"
        " WHERE k.client_id = followup_case.client_id AND k.status = 'active'"
        " AND k.effective_date <= followup_case.window_start)"
    )


def downgrade() -> None:
    with op.batch_alter_table('followup_case', schema=None) as batch_op:
        batch_op.drop_column('priority_parts')
        batch_op.drop_column('families_before')
