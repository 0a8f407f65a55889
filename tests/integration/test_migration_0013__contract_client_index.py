"""Migration 0013 and store/models.py agree on the contracts' client index: the wide one
(client_id, status, family) is there, the narrow one it replaces is gone, and Alembic finds
nothing to change about the contract table's indexes, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)


def _on_contract_indexes(diff) -> bool:
    flat = diff if isinstance(diff, tuple) else diff[0]
    return flat[0] in ("add_index", "remove_index") and flat[1].table.name == "contract"


def test_migration_0013__the_contract_indexes_are_the_ones_the_tables_declare(engine):
    with engine.connect() as conn:
        diffs = [d for d in compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
                 if _on_contract_indexes(d)]
        indexes = {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("contract")}
    assert diffs == []
    assert indexes["ix_contract_client_status_family"] == ["client_id", "status", "family"]
    assert "ix_contract_client_id" not in indexes
