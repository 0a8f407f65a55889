"""Optimistic locking under real concurrency, on SQLite and PostgreSQL: of N writers holding the
same version, exactly one wins; writers on different cases all win.

Each writer is a thread with its own pooled connection, released by a barrier. PostgreSQL runs
their transactions at once (the conditional `UPDATE ... WHERE version = ?` picks the winner);
SQLite has one writer at a time (BEGIN IMMEDIATE), so the losers read the winner's version when
their turn comes (the version check refuses them). Either way: one winner, one audit record.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from states.commands import CorrectClient, FireEvent
from store import audit
from store.errors import VersionConflict
from store.snapshot import CLIENT
from store.write_path import execute
from tests import factories as f
from tests.integration.db_helpers import AUDIT, audit_count, case_dict

WRITERS = 8


def _race(engine, case_id, version, commands, now) -> list[object]:
    barrier = threading.Barrier(len(commands))

    def writer(i: int):
        barrier.wait(timeout=30)  # released together; the timeout only guards against a hang
        try:
            return execute(engine, case_id, version, commands[i], f"advisor:{i}", now)
        except VersionConflict as exc:
            return exc

    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(writer, range(len(commands))))


@pytest.mark.parametrize("kind", ["event", "correction"])
def test_write_path__concurrent_writers_on_one_version_exactly_one_wins(engine, now, kind):
    """The same event fired by every writer, or a different correction from each (a change any
    state accepts: only the version can refuse it)."""
    with engine.begin() as conn:
        case_id, _, client_id, _ = f.ready_case(conn)
    if kind == "event":
        commands = [FireEvent("joindre")] * WRITERS
    else:
        commands = [CorrectClient({"city": f"Ville {i}"}) for i in range(WRITERS)]
    outcomes = _race(engine, case_id, 1, commands, now)

    wins = [o for o in outcomes if not isinstance(o, Exception)]
    conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
    assert len(wins) == 1 and len(conflicts) == WRITERS - 1, outcomes
    assert all((c.expected, c.current) == (1, 2) for c in conflicts)
    winner = outcomes.index(wins[0])
    row = case_dict(engine, case_id)
    assert (row["version"], row["audit_seq"]) == (2, 2)
    assert row["state"] == ("joint_rdv" if kind == "event" else "a_contacter")
    assert audit_count(engine, case_id) == 2
    with engine.connect() as conn:
        new = conn.execute(select(AUDIT).where(AUDIT.c.case_id == case_id, AUDIT.c.seq == 2)).one()
        assert new.actor == f"advisor:{winner}"
        city = conn.execute(select(CLIENT.c.city).where(CLIENT.c.id == client_id)).scalar_one()
        assert city == ("Marseille" if kind == "event" else f"Ville {winner}")  # only the winner's change
        assert audit.verify_all(conn)[2] == []


def test_write_path__concurrent_writers_on_different_cases_all_win(engine, now):
    with engine.begin() as conn:
        case_ids = [f.ready_case(conn)[0] for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)

    def writer(case_id: int):
        barrier.wait(timeout=30)
        return execute(engine, case_id, 1, FireEvent("joindre"), "advisor:x", now)

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(writer, case_ids))
    assert [r.version for r in results] == [2] * WRITERS
    assert [audit_count(engine, c) for c in case_ids] == [2] * WRITERS
    with engine.connect() as conn:
        assert audit.verify_all(conn)[2] == []
