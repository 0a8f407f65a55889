"""Every error that means "database unreachable" answers 503 database_unavailable with Retry-After,
and the log gets one line for the outage, not a traceback per request (issue 9, hole 3)."""
from __future__ import annotations

import logging
import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy import exc as sa_exc

from api.app import create_app
from store.unreachable import is_unreachable
from tests.integration.api_support import assert_problem


@pytest.fixture
def unreachable_app(now):
    # Nothing listens on port 1 of loopback: every connection is refused at once.
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/m3", connect_args={"connect_timeout": 2})
    with TestClient(create_app(engine, clock=lambda: now), raise_server_exceptions=False) as client:
        yield client
    engine.dispose()


def test_api__refused_connection_answers_503_with_retry_after(unreachable_app):
    resp = unreachable_app.get("/api/cases", headers={"Authorization": "Bearer m3_abcdef.secret"})
    body = assert_problem(resp, 503, "database_unavailable")
    assert int(resp.headers["Retry-After"]) >= 1 and "indisponible" in body["detail"]


def test_api__an_outage_logs_one_line_not_a_traceback_per_request(unreachable_app, caplog):
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        assert unreachable_app.get("/api/cases", headers={"Authorization": "Bearer m3_abcdef.secret"}
                                   ).status_code == 503
    lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(lines) <= 1
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("error, expected", [
    (sqlite3.OperationalError("database is locked"), True),
    (sqlite3.OperationalError("no such table: client"), False),
    (sa_exc.TimeoutError("QueuePool limit reached"), True),
    (sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open database file")), True),
    (sa_exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False),
    (ValueError("x"), False),
])
def test_unreachable__classifies_driver_errors(error, expected):
    assert is_unreachable(error) is expected


def test_unreachable__psycopg_operational_error_is_unreachable():
    import psycopg
    assert is_unreachable(sa_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed")))
