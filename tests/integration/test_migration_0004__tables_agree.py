"""Migration 0004 and store/models.py agree on what 0004 adds (case_note, case_topic, the
advisors' names and title, the client's civility): Alembic finds nothing to change there.
On SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

MINE = {"case_note", "case_topic"}
MINE_COLUMNS = {("advisor", "first_name"), ("advisor", "last_name"), ("advisor", "title"), ("client", "civility")}


def _about_mine(diff) -> bool:
    flat = diff if isinstance(diff, tuple) else diff[0]
    kind = flat[0]
    if kind in ("add_table", "remove_table"):
        return flat[1].name in MINE
    if kind in ("add_index", "remove_index"):
        return flat[1].table.name in MINE
    if kind in ("add_column", "remove_column"):
        return (flat[2], flat[3].name) in MINE_COLUMNS or flat[2] in MINE
    if kind.startswith("modify_"):
        return (flat[2], flat[3]) in MINE_COLUMNS or flat[2] in MINE
    return False


def test_migration_0004__the_schema_it_builds_is_the_one_the_tables_declare(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, SQLModel.metadata) if _about_mine(d)]
    assert diffs == []
