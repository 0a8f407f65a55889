"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, emptied before each test.

PostgreSQL: each test session creates a database of its own (so parallel runs never collide)
from M3_TEST_POSTGRES_ADMIN_URL and drops it at the end. The PostgreSQL tests are never
skipped silently: if the server does not answer they fail, unless M3_TEST_SKIP_POSTGRES=1.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import Engine, create_engine, text

from store.db import make_engine, upgrade

ADMIN_URL = os.environ.get("M3_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SKIP_PG = os.environ.get("M3_TEST_SKIP_POSTGRES") == "1"


def _truncate(engine: Engine) -> None:
    from store.tables import metadata

    names = [t.name for t in reversed(metadata.sorted_tables) if t.name != "agency"]
    extra = [n for n in ("app_user",) if n not in names]
    from store import audit_guard

    with engine.begin() as conn:
        existing = set(conn.dialect.get_table_names(conn))
        # The audit trail refuses DELETE and TRUNCATE in the database itself: a test that empties
        # the tables lifts the guard inside its own transaction and puts it back before committing.
        audit_guard.uninstall(conn)
        names = [n for n in names + extra if n in existing]
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        else:
            for n in names:
                conn.execute(text(f'DELETE FROM "{n}"'))
            if "sqlite_sequence" in existing:
                conn.execute(text("DELETE FROM sqlite_sequence"))
        audit_guard.install(conn)


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory) -> Engine:
    path = tmp_path_factory.mktemp("db") / "m3.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Engine:
    if SKIP_PG:
        pytest.skip("M3_TEST_SKIP_POSTGRES=1")
    name = f"m3_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request) -> Engine:
    """The same test on both databases: SQLite (embedded default) and PostgreSQL (production)."""
    eng = request.getfixturevalue(f"{request.param}_engine")
    _truncate(eng)
    return eng


@pytest.fixture
def pg_engine(postgres_engine) -> Engine:
    _truncate(postgres_engine)
    return postgres_engine


@pytest.fixture
def now() -> datetime:
    # A Wednesday, 10:30 in Paris: inside the consumer calling hours.
    return datetime(2026, 4, 15, 8, 30, tzinfo=timezone.utc)


@pytest.fixture
def cli_db(engine, monkeypatch):
    """Point the `m3` command line at the test database (both databases, like `engine`)."""
    import config
    import store.db

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("M3_DATABASE_URL", url)
    config.get_settings.cache_clear()
    store.db.engine_for.cache_clear()
    yield engine
    store.db.engine_for(url).dispose()  # the command line's own engine: release its connections
    config.get_settings.cache_clear()
    store.db.engine_for.cache_clear()


@pytest.fixture
def m3(cli_db):
    """Run `m3 ARGS...` in-process against the test database; returns typer's Result."""
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="session", autouse=True)
def _call_scripts_dir(tmp_path_factory):
    """The agencies' call-script templates are created at first use (notifications/call_script.py):
    in a folder of the test session's, never in ./var."""
    import config

    if "M3_SCRIPTS_DIR" not in os.environ:
        os.environ["M3_SCRIPTS_DIR"] = str(tmp_path_factory.mktemp("call-scripts"))
        config.get_settings.cache_clear()
    yield
