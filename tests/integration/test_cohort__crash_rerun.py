"""Kill the cohort anywhere, run it again: exactly the cases a clean run creates."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from flows import cohort
from flows.clock import resolve
from store import audit
from store.snapshot import CASE, CASE_CONTRACT
from tests import factories as f


class Killed(Exception):
    pass


def _book(engine):
    with engine.begin() as conn:
        advs = [f.advisor(conn), f.advisor(conn), f.advisor(conn, agency_id="rouviere")]
        for i in range(30):
            agency = "corniche" if i % 3 else "rouviere"
            cl = f.client(conn, agency_id=agency, advisor_id=(advs[i % 2] if agency == "corniche" else None))
            f.contract(conn, cl, effective=date(2026, 1, 1 + i))
            if i % 4 == 0:
                f.contract(conn, cl, family="Épargne", product="Assurance vie", effective=date(2025, 12, 10 + i % 20))


def _cases(engine):
    with engine.connect() as conn:
        rows = conn.execute(select(CASE.c.client_id, CASE.c.assigned_advisor_id, CASE.c.priority, CASE.c.due_date,
                                   CASE.c.late).order_by(CASE.c.client_id)).all()
        links = conn.execute(select(CASE.c.client_id, CASE_CONTRACT.c.contract_id).join(
            CASE_CONTRACT, CASE_CONTRACT.c.case_id == CASE.c.id).order_by(CASE_CONTRACT.c.contract_id)).all()
    return [tuple(r) for r in rows], [tuple(r) for r in links]


@pytest.mark.parametrize("where", ["_insert_links", "_insert_audit", "_allocate_ids"])
def test_cohort__crash_anywhere_then_rerun_equals_a_clean_run(engine, monkeypatch, where):
    _book(engine)
    as_of, now = resolve("2026-04-01", cohort.RUN_TIME)
    clean = cohort.run_cohort(engine, "2026-04", as_of, now, dry_run=True)
    original = getattr(cohort, where)

    def crash(*args, **kwargs):
        original(*args, **kwargs)  # the rows are written... then the process dies
        raise Killed(where)

    monkeypatch.setattr(cohort, where, crash)
    with pytest.raises(Killed):
        cohort.run_cohort(engine, "2026-04", as_of, now)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CASE)).scalar_one() == 0
    monkeypatch.setattr(cohort, where, original)
    rerun = cohort.run_cohort(engine, "2026-04", as_of, now)
    expected = sorted((c.client_id, c.advisor_id, c.priority, c.due_date, c.late) for c in clean.cases)
    rows, links = _cases(engine)
    assert rows == expected and len(rows) == 30
    assert sorted(links) == sorted((c.client_id, k) for c in clean.cases for k in c.contract_ids)
    assert sum(c.late for c in rerun.cases) == 8
    assert cohort.run_cohort(engine, "2026-04", as_of, now).cases == []  # and once more: nothing
    with engine.connect() as conn:
        assert audit.verify_all(conn)[2] == []
