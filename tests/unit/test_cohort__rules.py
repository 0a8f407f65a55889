"""The monthly cohort's rules, as plain functions on both databases (no Prefect)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from flows import cohort
from flows.clock import resolve
from states.calendar import due_date, month_bounds
from store import audit
from store.cases import NewCase, opening_changes
from store.snapshot import CASE, CASE_CONTRACT
from tests import factories as f

AS_OF, NOW = resolve("2026-04-01", cohort.RUN_TIME)


def run(engine, month="2026-04", as_of=AS_OF, now=NOW, dry_run=False):
    return cohort.run_cohort(engine, month, as_of, now, dry_run=dry_run)


@pytest.mark.parametrize("month", [f"{y}-{m:02d}" for y in (2026, 2027, 2028) for m in range(1, 13)])
def test_cohort__effective_range_is_exactly_the_days_due_in_the_month(month):
    start, end = cohort.effective_range(month)
    first, last = month_bounds(month)
    day = start - timedelta(days=3)
    while day <= end + timedelta(days=3):
        assert (first <= due_date(day) <= last) == (start <= day <= end), day
        day += timedelta(days=1)


@pytest.mark.parametrize("effective,due", [
    (date(2026, 1, 15), date(2026, 4, 15)),  # the process document's example
    (date(2026, 1, 31), date(2026, 4, 30)),
    (date(2026, 11, 29), date(2027, 2, 28)), (date(2026, 11, 30), date(2027, 2, 28)),
    (date(2027, 11, 30), date(2028, 2, 29)),  # leap year
    (date(2028, 2, 29), date(2028, 5, 29)),
])
def test_cohort__month_ends_and_29_february(engine, effective, due):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        cl = f.client(conn, advisor_id=adv)
        k = f.contract(conn, cl, effective=effective)
    month = f"{due:%Y-%m}"
    as_of, now = resolve(f"{month}-01", cohort.RUN_TIME)
    result = run(engine, month, as_of, now)
    [c] = result.cases
    assert (c.contract_ids, c.due_date, c.late) == ((k,), due, False)
    assert (c.window_start, c.window_end) == (due - timedelta(days=7), due + timedelta(days=7))


def test_cohort__one_case_per_client_covering_its_contracts(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        cl = f.client(conn, advisor_id=adv)
        k1 = f.contract(conn, cl, effective=date(2026, 1, 15))
        k2 = f.contract(conn, cl, family="Santé", product="Santé individuelle", effective=date(2026, 1, 31))
        f.contract(conn, cl, effective=date(2026, 2, 1))  # due in May
        f.contract(conn, cl, effective=date(2026, 1, 20), status="cancelled")
        other = f.client(conn, advisor_id=adv)
        f.contract(conn, other, effective=date(2026, 1, 10), status="cancelled")
    result = run(engine)
    [c] = result.cases
    assert c.client_id == cl and set(c.contract_ids) == {k1, k2}
    assert c.due_date == date(2026, 4, 15) and c.advisor_id == adv and not c.late
    assert c.call_from == date(2026, 4, 8)  # a Wednesday: the window's first day
    with engine.connect() as conn:
        row = conn.execute(select(CASE)).one()
        assert (row.cohort_month, row.state, row.version, row.audit_seq) == ("2026-04", "a_contacter", 1, 1)
        assert sorted(conn.execute(select(CASE_CONTRACT.c.contract_id)).scalars()) == sorted([k1, k2])


def test_cohort__priority_score_from_family_kind_and_premium(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        p = f.client(conn, advisor_id=adv)
        f.contract(conn, p, effective=date(2026, 1, 5), premium_eur=600)  # IARD 10 + 0 + 1
        e = f.client(conn, "entreprise", advisor_id=adv)
        f.contract(conn, e, effective=date(2026, 1, 5), premium_eur=30000)  # IARD 10 + 25 + cap 40
        f.contract(conn, e, family="Prévoyance", product="Prévoyance", effective=date(2026, 1, 6), premium_eur=100)
    by = {c.client_id: c.priority for c in run(engine).cases}
    assert by == {p: 11, e: 30 + 25 + 40}


def test_cohort__dedupe_open_or_recent_cases(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        open_cl = f.client(conn, advisor_id=adv)  # an open case from long ago
        old = f.contract(conn, open_cl, effective=date(2024, 1, 10))
        f.case(conn, open_cl, [old], adv, effective=date(2024, 1, 10), now=datetime(2024, 4, 1, tzinfo=timezone.utc))
        f.contract(conn, open_cl, effective=date(2026, 1, 10))
        recent = f.client(conn, advisor_id=adv)  # a closed case 11 months ago
        k = f.contract(conn, recent, effective=date(2025, 2, 3))
        cid = f.case(conn, recent, [k], adv, effective=date(2025, 2, 3), now=datetime(2025, 5, 2, tzinfo=timezone.utc))
        f.contract(conn, recent, effective=date(2026, 1, 10))
        older = f.client(conn, advisor_id=adv)  # a closed case 13 months ago
        k = f.contract(conn, older, effective=date(2024, 12, 3))
        cid2 = f.case(conn, older, [k], adv, effective=date(2024, 12, 3), now=datetime(2025, 3, 1, tzinfo=timezone.utc))
        k_new = f.contract(conn, older, effective=date(2026, 1, 10))
        conn.execute(update(CASE).where(CASE.c.id.in_([cid, cid2])).values(state="cloture"))
    [c] = run(engine).cases
    assert (c.client_id, c.contract_ids) == (older, (k_new,))


def test_cohort__catch_up_of_last_month_is_late(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        late_cl = f.client(conn, advisor_id=adv)
        k_late = f.contract(conn, late_cl, effective=date(2025, 12, 20))  # due 20 March: missed
        covered_cl = f.client(conn, advisor_id=adv)
        k = f.contract(conn, covered_cl, effective=date(2025, 12, 5))
        f.case(conn, covered_cl, [k], adv, effective=date(2025, 12, 5), now=datetime(2025, 3, 1, tzinfo=timezone.utc))
        conn.execute(update(CASE).values(state="cloture"))
        too_old = f.client(conn, advisor_id=adv)
        f.contract(conn, too_old, effective=date(2025, 11, 20))  # two months back: not caught up
    result = run(engine)
    [c] = result.cases
    assert (c.client_id, c.contract_ids, c.late, c.due_date) == (late_cl, (k_late,), True, date(2026, 3, 20))
    assert c.call_from == date(2026, 4, 1)  # the window has passed: from the as-of day
    assert result.late == 1
    assert "en retard" in cohort.summary_markdown(result)


def test_cohort__advisor_who_left_and_the_other_agency_never_chosen(engine):
    with engine.begin() as conn:
        gone = f.advisor(conn, active=False)
        busy = f.advisor(conn)
        free = f.advisor(conn)
        other_agency = f.advisor(conn, agency_id="rouviere")  # no load at all: must not be chosen
        for _ in range(2):  # busy carries two open cases
            x = f.client(conn, advisor_id=busy)
            f.case(conn, x, [f.contract(conn, x, effective=date(2025, 6, 1))], busy, effective=date(2025, 6, 1))
        cl_gone = f.client(conn, advisor_id=gone)
        f.contract(conn, cl_gone, effective=date(2026, 1, 12))
        cl_wrong = f.client(conn, advisor_id=other_agency)  # advisor of record in the other agency
        f.contract(conn, cl_wrong, effective=date(2026, 1, 13))
        cl_none = f.client(conn, advisor_id=None)
        f.contract(conn, cl_none, effective=date(2026, 1, 14))
        cl_rouv = f.client(conn, agency_id="rouviere", advisor_id=None)
        f.contract(conn, cl_rouv, effective=date(2026, 1, 14))
    by = {c.client_id: c.advisor_id for c in run(engine).cases}
    # free (0) takes the first, then free (1) vs busy (2): free again, then tie 2-2 -> lowest id (busy).
    assert by[cl_gone] == free and by[cl_wrong] == free and by[cl_none] == busy
    assert by[cl_rouv] == other_agency


def test_cohort__rerun_creates_nothing_and_dry_run_writes_nothing(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        for day in (1, 15, 31):
            cl = f.client(conn, advisor_id=adv)
            f.contract(conn, cl, effective=date(2026, 1, day))
    dry = run(engine, dry_run=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CASE)).scalar_one() == 0
    first = run(engine)
    assert [c.as_json() | {"case_id": None} for c in first.cases] == [c.as_json() for c in dry.cases]
    assert run(engine).cases == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CASE)).scalar_one() == 3
        cases, records, breaches, _ = audit.verify_all(conn)
    assert (cases, records, breaches) == (3, 3, [])


@pytest.mark.parametrize("contract_ids", [("K1",), ("K-2", "K/3"), ('K"4', "Kéé\\5")])
def test_cohort__opening_record_matches_the_audit_module(contract_ids):
    c = cohort.PlannedCase("CL1", "corniche", contract_ids, ("IARD",), date(2026, 4, 15), date(2026, 4, 8),
                           date(2026, 4, 22), date(2026, 4, 8), 42, True, 7, "X")
    changes, digest = cohort.opening_record(12, c, "2026-04", cohort._js(NOW.isoformat()))
    nc = NewCase("CL1", "corniche", contract_ids, "2026-04", c.due_date, c.window_start, c.window_end, 7, 42, True)
    expected = audit.record_values(12, 1, audit.GENESIS, NOW, cohort.ACTOR, "ouverture", opening_changes(nc), None)
    assert digest == expected["hash"]
    import json
    assert json.loads(changes) == expected["changes"]
