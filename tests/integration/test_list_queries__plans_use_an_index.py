"""The agency-wide lists read their page in index order, never sorting the agency's cases.

Issue 8 measured the agency list at 211 ms p50 on 100,000 cases with every sort done in a
temporary B-tree. This is the structural half of the fix (the timings are in bench/bench_pages.py):
for the sorts the pages and the API default to, the database has an index that delivers the
page's ids in order, so a page reads `per_page` index entries whatever the book's size.

SQLite: EXPLAIN QUERY PLAN names the index and shows no "USE TEMP B-TREE FOR ORDER BY".
PostgreSQL: its planner picks a sequential scan on a small table, so the plan is asked with
sorts and sequential scans disabled (`enable_sort`, `enable_seqscan` off): a Sort node remains
only when no index can give the order.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from api.queries.cases import CaseFilter, page_ids_query

TODAY = date(2026, 12, 1)

# (what, filter, sort, the index that must give the order)
LISTS = [
    ("manager's agency list, default sort", CaseFilter(scope="corniche"), ["-priority", "due_date"],
     "ix_case_agency_priority"),
    ("admin's list of every agency, default sort", CaseFilter(), ["-priority", "due_date"], "ix_case_priority"),
    ("manager's agency list by due date", CaseFilter(scope="corniche"), ["due_date"], "ix_case_agency_due"),
    ("an agency picked by an admin, default sort", CaseFilter(agency="rouviere"), ["-priority", "due_date"],
     "ix_case_agency_priority"),
]


def _sql(engine, stmt) -> str:
    return str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _plan(engine, stmt) -> str:
    sql = _sql(engine, stmt)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return "\n".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        with conn.begin():
            conn.execute(text("SET LOCAL enable_sort = off"))
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))


@pytest.mark.parametrize("what,f,sort,index", LISTS, ids=[x[0] for x in LISTS])
def test_list_queries__page_ids_come_from_the_index_of_the_sort_without_sorting(engine, what, f, sort, index):
    plan = _plan(engine, page_ids_query(f, sort, page=3, per_page=50, today=TODAY))
    assert index in plan, f"{what}: expected {index} in the plan:\n{plan}"
    if engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan, f"{what}: sorted in a temporary B-tree:\n{plan}"
    else:
        assert "Sort" not in plan, f"{what}: sorted, no index gives the order:\n{plan}"


def test_list_queries__a_sort_without_index_is_seen_as_one(engine):
    """The check above can fail: a sort no index serves shows as a sort in the plan."""
    plan = _plan(engine, page_ids_query(CaseFilter(scope="corniche"), ["-updated_at"], 1, 50, TODAY))
    assert ("TEMP B-TREE" in plan) if engine.dialect.name == "sqlite" else ("Sort" in plan), plan
