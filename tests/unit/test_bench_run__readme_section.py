"""`./dev bench --readme` rewrites only what lies between the README's perf markers."""
from datetime import date

import pytest

from bench.common import Result
from bench.run import END, START, median_rows, merge_rows, parse_rows, readme_section, replace_section


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


def test_parse_rows__reads_back_the_rows_the_section_was_written_from():
    rows = [("bench_write_path", Result("SQLite: ratio change / raw minimum", 9.5, "x", "<= 7", False, "a|b")),
            ("bench_write_path", Result("SQLite: change, median", 0.5, "ms", "<= 1 ms", True, "", 12.25)),
            ("bench_pages", Result("PostgreSQL: statistics, p50", 1234.5, "ms", "p50 <= 30, p99 <= 150 ms", None,
                                   "p99 1.0 ms"))]
    text = f"# R\n{START}\n{readme_section(rows, 'm', date(2026, 12, 1), 3, {})}\n{END}\n"
    back = parse_rows(text)
    assert [(n, r.name, r.value, r.unit, r.target, r.ok, r.note) for n, r in back] == \
        [(n, r.name, r.value, r.unit, r.target, r.ok, r.note) for n, r in rows]
    assert back[1][1].ratio == 12.2  # as the table shows it


def test_merge_rows__replaces_only_the_rerun_benchmarks_rows_in_place():
    old = [("bench_a", Result("a1", 1, "s")), ("bench_b", Result("b1", 1, "s")), ("bench_b", Result("b2", 1, "s")),
           ("bench_c", Result("c1", 1, "s"))]
    new = [("bench_b", Result("b1", 2, "s"))]
    assert [(n, r.name, r.value) for n, r in merge_rows(old, new)] == \
        [("bench_a", "a1", 1), ("bench_b", "b1", 2), ("bench_c", "c1", 1)]


def test_readme_section__says_which_rows_come_from_a_later_run():
    out = readme_section([("bench_pages", Result("x", 1, "ms"))], "m", date(2026, 12, 1), 3, {}, rerun=["bench_pages"])
    assert "The rows of pages come from a later run of those benchmarks alone on 2026-12-01." in out


def test_parse_rows__reads_this_readme():
    from pathlib import Path

    rows = parse_rows((Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8"))
    assert len(rows) > 20 and {n for n, _ in rows} >= {"bench_write_path", "bench_pages", "bench_cohort"}
