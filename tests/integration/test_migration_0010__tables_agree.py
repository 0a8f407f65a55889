"""Migration 0010 and store/models.py agree on what 0010 adds and replaces (the lists' and the
statistics' indexes, the client's folded search keys, the cases' document counts): Alembic
finds nothing to change about them, on SQLite and PostgreSQL. Each dialect's own search index
(a trigram GIN index on PostgreSQL, a B-tree on SQLite) is there, and the other's is not."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

MINE_COLUMNS = {("client", "search_name"), ("client", "search_phone"), ("followup_case", "documents_required"),
                ("followup_case", "documents_satisfied")}
MINE_INDEXES = {"ix_case_state_agency_window", "ix_case_agency_priority", "ix_case_priority", "ix_case_agency_due",
                "ix_case_agency_window", "ix_case_advisor_state", "ix_appointment_status_at", "ix_case_stats",
                "ix_bilan_outcome_case_kind", "ix_planned_action_case_kind", "ix_client_search", "ix_client_search_trgm",
                # replaced by 0010: must be gone from both
                "ix_case_state_agency", "ix_followup_case_assigned_advisor_id", "ix_bilan_outcome_case_id",
                "ix_planned_action_case_id"}


def _about_mine(diff) -> bool:
    flat = diff if isinstance(diff, tuple) else diff[0]
    kind = flat[0]
    if kind in ("add_index", "remove_index"):
        return flat[1].name in MINE_INDEXES
    if kind in ("add_column", "remove_column"):
        return (flat[2], flat[3].name) in MINE_COLUMNS
    if kind.startswith("modify_"):
        return (flat[2], flat[3]) in MINE_COLUMNS
    return False


def test_migration_0010__the_schema_it_builds_is_the_one_the_tables_declare(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, SQLModel.metadata) if _about_mine(d)]
        names = {i["name"] for i in inspect(conn).get_indexes("client")}
    # The dialect-only search indexes: autogenerate compares them whatever the dialect, so they
    # are checked here by name instead.
    diffs = [d for d in diffs if (d if isinstance(d, tuple) else d[0])[1].name not in
             ("ix_client_search", "ix_client_search_trgm")] if diffs else diffs
    assert diffs == []
    if engine.dialect.name == "postgresql":
        assert "ix_client_search_trgm" in names and "ix_client_search" not in names
    else:
        assert "ix_client_search" in names and "ix_client_search_trgm" not in names
