"""Optimistic locking on PostgreSQL: of N writers holding the same version, exactly one wins."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from states.commands import FireEvent
from store import audit
from store.errors import VersionConflict
from store.write_path import execute
from tests import factories as f
from tests.integration.db_helpers import AUDIT, audit_count, case_dict

WRITERS = 8


def _race(engine, case_id, version, command, now) -> list[object]:
    barrier = threading.Barrier(WRITERS)

    def writer(i: int):
        barrier.wait(timeout=30)  # released together; the timeout only guards against a hang
        try:
            return execute(engine, case_id, version, command, f"advisor:{i}", now)
        except VersionConflict as exc:
            return exc

    with ThreadPoolExecutor(WRITERS) as pool:
        return list(pool.map(writer, range(WRITERS)))


@pytest.mark.postgres
def test_write_path__concurrent_writers_on_one_version_exactly_one_wins(pg_engine, now):
    with pg_engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    outcomes = _race(pg_engine, case_id, 1, FireEvent("joindre"), now)

    wins = [o for o in outcomes if not isinstance(o, Exception)]
    conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
    assert len(wins) == 1 and len(conflicts) == WRITERS - 1
    assert all((c.expected, c.current) == (1, 2) for c in conflicts)
    row = case_dict(pg_engine, case_id)
    assert (row["state"], row["version"], row["audit_seq"]) == ("joint_rdv", 2, 2)
    assert audit_count(pg_engine, case_id) == 2
    with pg_engine.connect() as conn:
        new = conn.execute(select(AUDIT).where(AUDIT.c.case_id == case_id, AUDIT.c.seq == 2)).one()
        assert new.actor == f"advisor:{outcomes.index(wins[0])}"
        assert audit.verify_all(conn)[2] == []


@pytest.mark.postgres
def test_write_path__concurrent_writers_on_different_cases_all_win(pg_engine, now):
    with pg_engine.begin() as conn:
        case_ids = [f.ready_case(conn)[0] for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)

    def writer(case_id: int):
        barrier.wait(timeout=30)
        return execute(pg_engine, case_id, 1, FireEvent("joindre"), "advisor:x", now)

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(writer, case_ids))
    assert [r.version for r in results] == [2] * WRITERS
    assert [audit_count(pg_engine, c) for c in case_ids] == [2] * WRITERS
