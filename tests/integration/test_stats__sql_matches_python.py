"""The statistics counted in SQL (api/queries/stats.py) equal the ones counted in Python before
(tests/integration/stats_reference.py), on a seeded book, on both databases: every filter,
every group, with and without the day of the late count."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import update

from api.queries import stats
from bench.pages_book import seed
from store.snapshot import CASE
from tests.integration import stats_reference as before

TODAY = date(2026, 11, 18)


@pytest.fixture
def book(engine):
    b = seed(engine, 700, seed_value=11)
    # Reached at the edges of the Paris day, where UTC+1 and UTC+2 disagree: 22:xx UTC is the
    # next day in summer, the same day in winter; windows chosen to end on either day.
    edges = [
        (1, datetime(2026, 7, 10, 22, 30, tzinfo=timezone.utc), date(2026, 7, 1), date(2026, 7, 10)),  # 11/07 Paris: late
        (2, datetime(2026, 7, 10, 22, 30, tzinfo=timezone.utc), date(2026, 7, 1), date(2026, 7, 11)),  # on time
        (3, datetime(2026, 1, 10, 22, 30, tzinfo=timezone.utc), date(2026, 1, 1), date(2026, 1, 10)),  # 10/01: on time
        (4, datetime(2026, 1, 10, 23, 30, tzinfo=timezone.utc), date(2026, 1, 1), date(2026, 1, 10)),  # 11/01: late
        (5, datetime(2026, 3, 29, 0, 59, tzinfo=timezone.utc), date(2026, 3, 29), date(2026, 4, 5)),  # just before DST
        (6, datetime(2026, 10, 24, 22, 0, tzinfo=timezone.utc), date(2026, 10, 25), date(2026, 11, 1)),  # summer 00:00
        (7, datetime(2026, 7, 10, 23, 30, tzinfo=timezone.utc), date(2026, 7, 1), date(2026, 7, 10)),  # 11/07 01:30: late
        (8, datetime(2026, 7, 10, 21, 59, tzinfo=timezone.utc), date(2026, 7, 1), date(2026, 7, 10)),  # 10/07 23:59: on time
    ]
    with engine.begin() as conn:
        for case_id, at, start, end in edges:
            conn.execute(update(CASE).where(CASE.c.id == case_id).values(reached_at=at, window_start=start,
                                                                          window_end=end))
    return b


def _filters(book) -> list[stats.StatsFilter]:
    adv = book.advisors["corniche"][0]
    return [stats.StatsFilter(), stats.StatsFilter(scope="corniche"), stats.StatsFilter(agency="rouviere"),
            stats.StatsFilter(cohort_month="2026-10"), stats.StatsFilter(scope="corniche", cohort_month="2026-09"),
            stats.StatsFilter(advisor=adv), stats.StatsFilter(scope="estaque", advisor=adv),
            stats.StatsFilter(cohort_month="1999-01")]


def test_stats__sql_figures_equal_the_python_ones_on_a_seeded_book(engine, book):
    with engine.connect() as conn:
        for f in _filters(book):
            for today in (None, TODAY):
                assert stats.compute(conn, f, today) == before.compute(conn, f, today), (f, today)


def test_stats__the_seeded_book_exercises_every_figure(engine, book):
    """The comparison means something: the book has every kind of figure, not only zeros."""
    with engine.connect() as conn:
        totals = stats.compute(conn, stats.StatsFilter(), TODAY)["totals"]
    assert totals["cases"] == 700 and len(totals["by_state"]) >= 8
    assert 0 < totals["on_time"] < totals["reached"] < totals["cases"]
    assert 0 < totals["documents_satisfied"] < totals["documents_required"]
    assert totals["conversion"]["proposed"] > totals["conversion"]["sent"] > totals["conversion"]["signed"] > 0
    assert totals["late"] > 0 and totals["caught_up"] > 0 and totals["bilans"] > 0
    assert totals["multi_equipment_before"] is not None and totals["multi_equipment_after"] is not None
