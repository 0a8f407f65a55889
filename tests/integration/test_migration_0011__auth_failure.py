"""Migration 0011 (auth_failure, the shared rate-limit counts) and store/models.py agree, on
SQLite and PostgreSQL; and it downgrades and upgrades again (a fresh SQLite file)."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from store.db import alembic_config, make_engine, upgrade


def _about_auth_failure(diff) -> bool:
    flat = diff if isinstance(diff, tuple) else diff[0]
    kind = flat[0]
    if kind in ("add_table", "remove_table"):
        return flat[1].name == "auth_failure"
    if kind in ("add_index", "remove_index"):
        return flat[1].table.name == "auth_failure"
    if kind in ("add_column", "remove_column") or kind.startswith("modify_"):
        return flat[2] == "auth_failure"
    return False


def test_migration_0011__the_schema_it_builds_is_the_one_the_tables_declare(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, SQLModel.metadata) if _about_auth_failure(d)]
    assert diffs == []


def test_migration_0011__downgrades_and_upgrades_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        upgrade(engine)
        assert "auth_failure" in inspect(engine).get_table_names()
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0010")
        assert "auth_failure" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert "auth_failure" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
