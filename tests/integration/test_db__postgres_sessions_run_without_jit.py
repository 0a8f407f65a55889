"""The application's PostgreSQL sessions run with JIT compilation off (store/db.make_engine):
the statistics' GROUP BY spent 45-60 ms compiling a query that runs in about as long."""
from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.postgres


def test_db__postgres_sessions_run_without_jit(postgres_engine):
    with postgres_engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar_one() == "off"
