"""reserved for the hardening and performance work; left empty

It shipped empty and databases record it as applied, so what it was meant for went into the
next revisions (0013: the contracts' client index) rather than into it.

Revision ID: 0012
Revises: 0011
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
import store.types  # noqa: F401


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
