"""Load, SQLite: two processes on one file wait for its write lock for a bounded time
(`M3_SQLITE_BUSY_TIMEOUT_S`, store/db.py), then the API answers 503 database_unavailable with
Retry-After, and answers normally again once the other process lets go.

The other process is a real one (a few lines of Python holding `BEGIN IMMEDIATE` until told to
stop); the API runs in-process with a 1 s busy timeout so the test stays short.
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import auth
from api.app import create_app
from api.roles import Role
from config import get_settings
from store import db
from store.snapshot import CASE
from tests import factories as f
from tests.integration.api_support import assert_problem

pytestmark = pytest.mark.hardening

HOLDER = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
c.execute("ROLLBACK")
"""


def test_load__sqlite_lock_held_by_another_process_answers_503_after_a_bounded_wait(tmp_path, now, monkeypatch,
                                                                                    figures):
    assert 0 < db.busy_timeout_s() <= 600  # the default is bounded (30 s)
    monkeypatch.setenv("M3_SQLITE_BUSY_TIMEOUT_S", "1")
    get_settings.cache_clear()
    try:
        path = tmp_path / "m3.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        with engine.begin() as conn:
            case_id, *_ = f.ready_case(conn)
            _, token = auth.create_user(conn, "verrou", Role.ADMIN, None, now)
        headers = {"Authorization": f"Bearer {token}"}
        client = TestClient(create_app(engine, clock=lambda: now), raise_server_exceptions=False)
        assert client.get(f"/api/cases/{case_id}", headers=headers).status_code == 200  # the token is verified
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            t0 = time.monotonic()
            read = client.get(f"/api/cases/{case_id}", headers=headers)
            waited_read = time.monotonic() - t0
            t0 = time.monotonic()
            write = client.patch(f"/api/cases/{case_id}/client", json={"city": "Aubagne"},
                                 headers={**headers, "If-Match": '"1"'})
            waited_write = time.monotonic() - t0
        finally:
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(timeout=30)
        for resp, waited in ((read, waited_read), (write, waited_write)):
            assert_problem(resp, 503, "database_unavailable")
            assert int(resp.headers["Retry-After"]) >= 1
            assert 0.9 <= waited < 10, waited  # it waited for the lock, for a bounded time
        with engine.connect() as conn:
            assert conn.execute(select(CASE.c.version).where(CASE.c.id == case_id)).scalar_one() == 1
        # The other process let go: the same requests go through.
        assert client.get(f"/api/cases/{case_id}", headers=headers).status_code == 200
        again = client.patch(f"/api/cases/{case_id}/client", json={"city": "Aubagne"},
                             headers={**headers, "If-Match": '"1"'})
        assert again.status_code == 200, again.text
        figures(f"SQLite lock held by another process: read and write answered 503 + Retry-After after "
                f"{waited_read:.1f} s and {waited_write:.1f} s (busy timeout 1 s; default "
                f"{db._BUSY_TIMEOUT_S} s), then 200 once released")
        client.close()
        engine.dispose()
    finally:
        get_settings.cache_clear()
