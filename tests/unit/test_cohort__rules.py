"""The monthly cohort's rules, as plain functions on both databases (no Prefect)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from flows import cohort
from flows.clock import resolve
from states.calendar import due_date, month_bounds
from store import audit
from store.cases import AUDIT_COLUMNS, CASE_COLUMNS, NewCase, opening_changes, opening_rows
from store.snapshot import CASE, CASE_CONTRACT, CONTRACT
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


def _closed(conn, cid, reason, on):
    conn.execute(update(CASE).where(CASE.c.id == cid).values(
        state="cloture", closing_reason=reason, closed_at=datetime.combine(on, datetime.min.time(), timezone.utc)))


def test_cohort__recently_closed_cases_keep_their_clients_out_for_12_or_3_months(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        expect_new, expect_skipped = set(), {}
        for reason, closed_on, skipped in (
                ("complet", date(2025, 5, 2), True),       # reached 11 months ago: not called again
                ("refus", date(2025, 4, 2), True),         # reached, a day short of 12 months
                ("complet", date(2025, 3, 31), False),     # reached 12 months and a day ago
                ("injoignable", date(2026, 1, 2), True),   # unreached 3 months less a day ago
                ("sans_suite", date(2025, 12, 31), False),  # unreached 3 months and a day ago
                (None, date(2025, 6, 1), True)):            # no reason recorded: counts as reached
            cl = f.client(conn, advisor_id=adv)
            k = f.contract(conn, cl, effective=date(2024, 12, 3))
            cid = f.case(conn, cl, [k], adv, effective=date(2024, 12, 3), now=datetime(2025, 3, 1, tzinfo=timezone.utc))
            _closed(conn, cid, reason, closed_on)
            k_new = f.contract(conn, cl, effective=date(2026, 1, 10))
            if skipped:
                expect_skipped[k_new] = (cl, cid)
            else:
                expect_new.add(k_new)
    result = run(engine)
    assert {k for c in result.cases for k in c.contract_ids} == expect_new
    assert {s.contract_id: (s.client_id, s.case_id) for s in result.skipped} == expect_skipped
    by = {s.contract_id: s for s in result.skipped}
    first = by[next(iter(expect_skipped))]
    assert (first.reason, first.closing_reason, first.closed_on, first.callable_from) == (
        "recently_reached", "complet", date(2025, 5, 2), date(2026, 5, 2))
    assert "dossier n° " in first.label and "pas de nouvel appel avant le 02/05/2026" in first.label
    unreached = [s for s in result.skipped if s.reason == "recently_unreached"]
    assert [(s.closing_reason, s.callable_from) for s in unreached] == [("injoignable", date(2026, 4, 2))]
    md = cohort.summary_markdown(result)
    assert all(k in md for k in expect_skipped) and "Contrats écartés" in md
    assert result.summary()["skipped_by_reason"] == {"recently_reached": 3, "recently_unreached": 1}


def test_cohort__settings_decide_how_long_a_closed_case_keeps_its_client(engine):
    from config import Settings

    with engine.begin() as conn:
        adv = f.advisor(conn)
        cl = f.client(conn, advisor_id=adv)
        k = f.contract(conn, cl, effective=date(2025, 9, 3))
        cid = f.case(conn, cl, [k], adv, effective=date(2025, 9, 3), now=datetime(2025, 11, 21, tzinfo=timezone.utc))
        _closed(conn, cid, "injoignable", date(2026, 1, 20))
        k_new = f.contract(conn, cl, effective=date(2026, 1, 10))
    s = Settings(recontact_after_unreached_months=1)
    assert cohort.run_cohort(engine, "2026-04", AS_OF, NOW, dry_run=True, settings=s).cases[0].contract_ids == (k_new,)
    s = Settings(recontact_after_unreached_months=6)
    assert [x.contract_id for x in cohort.run_cohort(engine, "2026-04", AS_OF, NOW, dry_run=True, settings=s).skipped
            ] == [k_new]


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
    assert "1 rattrapés" in cohort.summary_markdown(result) and "Dossiers rattrapés" in cohort.summary_markdown(result)


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
def test_cohort__opening_rows_are_the_audit_modules_record(contract_ids):
    nc = NewCase("CL1", "corniche", contract_ids, "2026-04", date(2026, 4, 15), date(2026, 4, 8), date(2026, 4, 22),
                 7, 42, True, 2, {"family": 30, "kind": 0, "premium": 12})
    case_row, links, record = opening_rows(12, nc, cohort.ACTOR, NOW)
    expected = audit.record_values(12, 1, audit.GENESIS, NOW, cohort.ACTOR, "ouverture", opening_changes(nc), None)
    assert record == tuple(expected[c] for c in AUDIT_COLUMNS)
    assert dict(zip(CASE_COLUMNS, case_row))["audit_head"] == expected["hash"]
    assert links == [(12, k) for k in contract_ids]
    assert expected["changes"]["priority_parts"] == [None, {"family": 30, "kind": 0, "premium": 12}]
    assert expected["changes"]["families_before"] == [None, 2]


def test_cohort__priority_parts_and_families_before_are_frozen_on_the_case(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        e = f.client(conn, "entreprise", advisor_id=adv)
        f.contract(conn, e, effective=date(2026, 1, 5), premium_eur=30000)
        f.contract(conn, e, family="Prévoyance", product="Prévoyance collective", effective=date(2026, 1, 6),
                   premium_eur=100)
        f.contract(conn, e, family="Santé", product="Santé collective", effective=date(2024, 3, 1))  # held before
        f.contract(conn, e, family="Épargne", product="Épargne salariale", effective=date(2024, 3, 1),
                   status="cancelled")  # no longer held
        f.contract(conn, e, family="Épargne", product="Épargne salariale", effective=date(2026, 6, 1))  # not yet
    [c] = run(engine).cases
    assert c.priority_parts == {"family": 30, "kind": 25, "premium": 40} and c.priority == 95
    assert c.families_before == 3  # IARD, Prévoyance, Santé
    with engine.begin() as conn:
        row = conn.execute(select(CASE)).one()
        assert (row.priority_parts, row.families_before) == ({"family": 30, "kind": 25, "premium": 40}, 3)
        conn.execute(update(CONTRACT).where(CONTRACT.c.client_id == e).values(status="cancelled"))
    with engine.connect() as conn:
        assert conn.execute(select(CASE.c.families_before)).scalar_one() == 3  # frozen: history is not rewritten
