"""`./dev bench --readme` rewrites only what lies between the README's perf markers."""
from datetime import date

import pytest

from bench.common import Result
from bench.run import END, START, median_rows, readme_section, replace_section


def test_replace_section__keeps_everything_outside_the_markers():
    text = f"# Title\n\nintro\n{START}\nold table\n{END}\n\n## Lifecycle\nrest\n"
    out = replace_section(text, "new table")
    assert out == f"# Title\n\nintro\n{START}\nnew table\n{END}\n\n## Lifecycle\nrest\n"


def test_replace_section__refuses_a_readme_without_markers():
    with pytest.raises(SystemExit):
        replace_section("# no section here\n", "table")


def test_readme_section__gives_date_machine_ratio_target_and_met_or_missed():
    rows = [("bench_write_path", Result("SQLite: ratio change / raw minimum", 9.5, "x", "<= 7", False, "a|b")),
            ("bench_write_path", Result("SQLite: change, median", 0.5, "ms", "<= 1 ms", True, "", 12.25)),
            ("bench_write_path", Result("peer: SpiffWorkflow", 0.6, "ms", "", None, "in memory"))]
    out = readme_section(rows, "x86_64, 2 cores, Python 3.11.7, SQLite 3.40.1 (WAL), PostgreSQL 15.20",
                         date(2026, 12, 1), 3,
                         {"bench_write_path": {"ratio change": "SQLAlchemy's machinery; next: driver cursors."}})
    assert "2026-12-01" in out and "PostgreSQL 15.20" in out and "median of 3 runs" in out
    assert "| write_path | SQLite: ratio change / raw minimum | 9.5 x |  | <= 7 | missed | a\\|b |" in out
    assert "| write_path | SQLite: change, median | 0.5 ms | 12.2× | <= 1 ms | met |  |" in out
    assert "| write_path | peer: SpiffWorkflow | 0.6 ms |  | — |  | in memory |" in out
    assert "Missed: 1." in out
    assert ("- **write_path: SQLite: ratio change / raw minimum**: 1.4× the limit (9.5 for ≤ 7). "
            "SQLAlchemy's machinery; next: driver cursors.") in out


def test_readme_section__a_miss_without_explanation_says_so():
    rows = [("bench_pages", Result("SQLite: case page, p50", 20, "ms", "p50 <= 30, p99 <= 150 ms", False,
                                   "p99 300.0 ms, max 310 ms"))]
    out = readme_section(rows, "m", date(2026, 12, 1), 1, {})
    assert "p99 2.0× its limit (300 for ≤ 150)" in out and "not explained yet" in out


def test_readme_section__a_minimum_missed_is_given_as_a_share_of_it():
    rows = [("bench_api", Result("2 processes / 1 process", 1.1, "x", ">= 1.3", False))]
    assert "85% of the minimum (1.1 for ≥ 1.3)" in readme_section(rows, "m", date(2026, 12, 1), 1, {})


def test_median_rows__shows_each_measure_from_its_median_run():
    runs = [[Result("a", 3, "ms", ok=False), Result("b", 1, "ms")],
            [Result("a", 1, "ms", ok=True), Result("b", 5, "ms")],
            [Result("a", 2, "ms", ok=True), Result("b", 3, "ms")]]
    a, b = median_rows(runs)
    assert (a.value, a.ok, b.value) == (2, True, 3)
    assert a.note == "median of 3 runs"
