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
                         date(2026, 12, 1), 3)
    assert "2026-12-01" in out and "PostgreSQL 15.20" in out and "median of 3 runs" in out
    assert "| write_path | SQLite: ratio change / raw minimum | 9.5 x |  | <= 7 | missed | a\\|b |" in out
    assert "| write_path | SQLite: change, median | 0.5 ms | 12.2× | <= 1 ms | met |  |" in out
    assert "| write_path | peer: SpiffWorkflow | 0.6 ms |  | — |  | in memory |" in out
    assert "Missed (1): write_path: SQLite: ratio change / raw minimum." in out


def test_median_rows__shows_each_measure_from_its_median_run():
    runs = [[Result("a", 3, "ms", ok=False), Result("b", 1, "ms")],
            [Result("a", 1, "ms", ok=True), Result("b", 5, "ms")],
            [Result("a", 2, "ms", ok=True), Result("b", 3, "ms")]]
    a, b = median_rows(runs)
    assert (a.value, a.ok, b.value) == (2, True, 3)
    assert a.note == "median of 3 runs"
