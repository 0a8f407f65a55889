"""The write path on the driver's cursor (store/driver_sql.py) writes exactly the rows the
SQLAlchemy path writes, on both databases.

Each scenario (the write-path tests' own walks, plus the benchmark's script) runs twice on an
emptied database: once with every statement through `Connection.execute`, once on the driver's
cursor. After each run every table is dumped twice, as SQLAlchemy reads it and as the driver
stores it (`SELECT *` on the raw cursor: a datetime or JSON written in another form would show
here even if it read back the same), and the two runs' dumps must be equal.
"""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from store import driver_sql
from tests import factories
from tests.conftest import _truncate
from tests.integration import (
    test_bilan__write_path as bilan, test_maintained_columns__corrections_and_imports as maintained,
    test_notes__write_path_and_api as notes, test_outbox__appointment_messages as appointments,
    test_smoke_write_path as smoke, test_write_path__assignment_and_corrections as corrections,
    test_write_path__both_databases as walks,
)


def _bench_script(engine, now) -> None:
    """bench/bench_write_path.py's ten rounds on a few cases: corrections (client UPDATE, search
    keys, correction upsert), attempts, events with guards, outcomes."""
    from bench import bench_write_path as bench
    from store.write_path import execute

    ids = bench._seed(engine, 3)
    versions = {i: 1 for i in ids}
    for n in range(30):
        case_id = ids[n % 3]
        _, cmd = bench._script(n // 3)
        versions[case_id] = execute(engine, case_id, versions[case_id], cmd, "advisor:1", bench.NOW).version


SCENARIOS = {
    "bench_script": _bench_script,
    "walk_to_cloture": walks.test_write_path__case_walks_from_a_contacter_to_cloture,
    "stale_version": walks.test_write_path__stale_version_is_refused_with_the_current_one_and_overwrites_nothing,
    "guard_refusal": walks.test_write_path__guard_refusal_changes_nothing_and_writes_no_audit,
    "requirement_upsert": walks.test_write_path__upsert_of_a_preexisting_requirement_keeps_one_row,
    "email_notification": walks.test_write_path__envoyer_email_enqueues_a_notification_in_the_same_change,
    "letter_notification": walks.test_write_path__envoyer_courrier_enqueues_a_letter_without_email_recipient,
    "corrections": corrections.test_write_path__confirming_another_agency_moves_the_case_and_keeps_both_corrections,
    "bilan": bilan.test_bilan__accept_dismiss_freeze_and_never_overwrite,
    "bilan_opening": bilan.test_bilan__opens_with_every_active_contract_of_the_client_once,
    "notes_topics": notes.test_notes__note_and_topics_through_the_write_path_are_stored_and_audited,
    "appointments": appointments.test_appointment_messages__confirmation_update_and_cancellation_in_french,
    "joins_and_counts": maintained.test_maintained__document_counts_follow_requirements_and_joins,
    "smoke": smoke.test_write_path__fires_event_and_bumps_version,
}


def _dump(engine) -> dict:
    tables = [t for t in SQLModel.metadata.sorted_tables]
    out = {}
    with engine.connect() as conn:
        for t in tables:
            order = list(t.primary_key.columns) or list(t.c)
            out[t.name] = [tuple(r) for r in conn.execute(select(t).order_by(*order))]
            # As stored: the same rows through the raw cursor, no result processing.
            names = ", ".join(f'"{c.name}"' for c in t.c)
            keys = ", ".join(f'"{c.name}"' for c in order)
            out[f"{t.name} (stored)"] = [tuple(r) for r in conn.exec_driver_sql(
                f'SELECT {names} FROM "{t.name}" ORDER BY {keys}')]
    return out


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_driver_sql__writes_the_same_rows_as_the_sqlalchemy_path(engine, now, name, monkeypatch):
    runs = {}
    calls = []
    real_run = driver_sql._run
    monkeypatch.setattr(driver_sql, "_run", lambda *a: calls.append(1) or real_run(*a))
    for enabled in (False, True):
        _truncate(engine)
        monkeypatch.setattr(driver_sql, "ENABLED", enabled)
        calls.clear()
        monkeypatch.setattr(factories, "_seq", itertools.count(1))  # the same names and ids both times
        SCENARIOS[name](engine, now)
        assert bool(calls) == enabled  # the path under test did run (and only it)
        runs[enabled] = _dump(engine)
    assert runs[True].keys() == runs[False].keys()
    for table in runs[False]:
        assert runs[True][table] == runs[False][table], table


def test_driver_sql__statement_listeners_see_every_statement(engine, now):
    """With a before_cursor_execute listener (tests that count or intercept statements), the
    write path goes through Connection.execute, so the listener sees each of its statements."""
    from sqlalchemy import event

    seen = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement.split()[0])

    _truncate(engine)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        smoke.test_write_path__fires_event_and_bumps_version(engine, now)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert "UPDATE" in seen and "INSERT" in seen


def test_driver_sql__a_driver_error_is_the_sqlalchemy_error_callers_catch(engine, now):
    """A constraint broken on the driver's cursor raises sqlalchemy.exc.IntegrityError (a
    DBAPIError, wrapping the driver's own), as Connection.execute raises it, and the
    transaction rolls back as a whole."""
    from sqlalchemy import exc, func

    from store import audit
    from store.write_path import _INSERT_AUDIT

    _truncate(engine)
    with engine.begin() as conn:
        case_id, *_ = factories.ready_case(conn)
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(audit.AUDIT)).scalar_one()
        first = conn.execute(select(audit.AUDIT).where(audit.AUDIT.c.case_id == case_id)).first()
    record = {k: getattr(first, k) for k in ("case_id", "seq", "at", "actor", "action", "changes", "reason",
                                             "prev_hash", "hash")}
    with pytest.raises(exc.IntegrityError) as raised:
        with engine.begin() as conn:
            driver_sql.execute(conn, _INSERT_AUDIT, dict(record, seq=99))  # a new record: written
            driver_sql.execute(conn, _INSERT_AUDIT, record)  # the same (case_id, seq) again
    assert isinstance(raised.value.orig, engine.dialect.loaded_dbapi.IntegrityError)
    assert "ada@" not in str(raised.value) and record["hash"] not in str(raised.value)  # parameters hidden
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit.AUDIT)).scalar_one() == before
