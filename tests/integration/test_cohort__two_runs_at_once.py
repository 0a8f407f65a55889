"""Two cohorts at once: the second waits for the first, then opens nothing twice and succeeds
(issue 9, hole 8: the losing run used to exit 1 on a UniqueViolation). PostgreSQL, where two
transactions really run side by side; SQLite admits one writer at a time by itself."""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event, func, select

from flows import cohort
from store.snapshot import CASE
from tests import factories as f

NOW = datetime(2026, 3, 25, 5, tzinfo=timezone.utc)


@pytest.mark.postgres
def test_cohort__a_second_run_waits_for_the_first_and_creates_nothing_twice(pg_engine):
    with pg_engine.begin() as conn:
        adv = f.advisor(conn)
        for i in range(6):
            f.contract(conn, f.client(conn, advisor_id=adv), effective=date(2026, 1, 3 + i))
    a_has_lock, b_waiting = threading.Event(), threading.Event()
    threads: dict[str, str] = {}
    results, errors = {}, []

    def hook(conn, cursor, statement, params, context, executemany):
        who = threads.get(threading.current_thread().name)
        if who == "a" and not a_has_lock.is_set() and "pg_try_advisory_xact_lock" not in statement:
            a_has_lock.set()  # A holds the lock and starts planning: let B in, wait until it queues
            assert b_waiting.wait(30), "B never queued on the lock"
        if who == "b" and "pg_advisory_xact_lock" in statement and "try" not in statement:
            b_waiting.set()

    def run(name):
        threads[threading.current_thread().name] = name
        try:
            results[name] = cohort.run_cohort(pg_engine, "2026-04", date(2026, 3, 25), NOW)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    event.listen(pg_engine, "before_cursor_execute", hook)
    try:
        a = threading.Thread(target=run, args=("a",), name="run-a")
        a.start()
        assert a_has_lock.wait(30)
        b = threading.Thread(target=run, args=("b",), name="run-b")
        b.start()
        a.join(60)
        b.join(60)
    finally:
        event.remove(pg_engine, "before_cursor_execute", hook)
    assert errors == []
    assert len(results["a"].cases) == 6 and not results["a"].waited_for_other_run
    assert results["b"].cases == [] and results["b"].waited_for_other_run
    with pg_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CASE)).scalar() == 6
