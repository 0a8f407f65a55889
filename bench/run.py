"""Run every benchmark (bench/bench_*.py) and print one table.

    python -m bench.run            # full sizes (the issues' targets)
    python -m bench.run --quick    # small sizes, a smoke run
    python -m bench.run import     # only benchmarks whose module name contains "import"
    python -m bench.run --runs 3   # each row: its median of three runs (absolute figures vary ~40 %)
    python -m bench.run --readme   # also rewrite README.md's performance section from this run

Each module has `run(quick: bool) -> list[Result]`. Benchmarks print numbers and ratios; the
test suite never asserts on speed.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import pkgutil
import platform
import re
import sys
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

import bench
from bench import misses
from bench.common import Result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="substrings of benchmark module names")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--runs", type=int, default=1,
                        help="run each benchmark N times; each row shows its median run (absolute figures)")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite README.md's performance section (between its perf markers) from this run")
    parser.add_argument("--readme-path", type=Path, default=Path(__file__).resolve().parent.parent / "README.md",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.readme and args.quick:
        parser.error("--readme needs full sizes (no --quick); with names, only their rows are replaced")
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
                   if m.name.startswith("bench_") and (not args.only or any(o in m.name for o in args.only)))
    table = Table(title=f"Suivi M+3 benchmarks — {date.today()} — {platform.machine()} "
                        f"{_cpus()} cores, Python {platform.python_version()}{' (quick)' if args.quick else ''}")
    for col in ("benchmark", "measure", "value", "unit", "× raw", "target", "ok", "note"):
        table.add_column(col, justify="right" if col in ("value", "× raw") else "left")
    failed = False
    rows: list[tuple[str, Result]] = []
    for name in names:
        start = time.perf_counter()
        try:
            runs = [importlib.import_module(f"bench.{name}").run(args.quick) for _ in range(max(1, args.runs))]
        except Exception as exc:  # a broken benchmark is reported, the others still run
            table.add_row(name, "ERROR", "", "", "", "", "✗", f"{type(exc).__name__}: {exc}"[:80])
            rows.append((name, Result("ERROR", 0, "", "", False, f"{type(exc).__name__}: {exc}"[:80])))
            failed = True
            continue
        results = median_rows(runs)
        rows += [(name, r) for r in results]
        for r in results:
            mark = "" if r.ok is None else ("✓" if r.ok else "✗")
            table.add_row(name.removeprefix("bench_"), r.name, f"{r.value:,.3f}".rstrip("0").rstrip("."),
                          r.unit, "" if r.ratio is None else f"{r.ratio:,.1f}", r.target, mark, r.note)
        print(f"[{name} took {time.perf_counter() - start:.1f} s]", file=sys.stderr)
    Console(width=160).print(table)
    if args.readme:
        path = args.readme_path
        text = path.read_text(encoding="utf-8")
        rerun = sorted({n for n, _ in rows}) if args.only else []
        if rerun:  # only these benchmarks were run: the other rows stay those of the last full run
            rows = merge_rows(parse_rows(text), rows)
        path.write_text(replace_section(text, readme_section(rows, machine_line(), date.today(), args.runs,
                                                             rerun=rerun)),
                        encoding="utf-8")
        print(f"[{path.name}: performance section rewritten]", file=sys.stderr)
    return 1 if failed else 0


def median_rows(runs: list[list[Result]]) -> list[Result]:
    """One row per measure: from the run whose value is that measure's median (its ratio, target
    and mark stay those of the same run, so they agree with the figure shown)."""
    if len(runs) == 1:
        return runs[0]
    out = []
    for i, first in enumerate(runs[0]):
        same = sorted((r[i] for r in runs if i < len(r) and r[i].name == first.name), key=lambda r: r.value)
        pick = same[(len(same) - 1) // 2]
        out.append(dataclasses.replace(pick, note=f"{pick.note}; median of {len(same)} runs".lstrip("; ")))
    return out


def machine_line() -> str:
    """The machine the figures come from: architecture, cores, Python, SQLite, PostgreSQL."""
    import os
    import sqlite3

    from bench.common import PG_ADMIN_URL_DEFAULT, PG_ADMIN_URL_ENV, libpq_url

    try:
        import psycopg

        with psycopg.connect(libpq_url(os.environ.get(PG_ADMIN_URL_ENV, PG_ADMIN_URL_DEFAULT)),
                             connect_timeout=3) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    except Exception:  # noqa: BLE001 - the line says it was not there
        pg = "not reachable"
    return (f"{platform.machine()}, {_cpus()} cores, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version} (WAL), PostgreSQL {pg}")


def _fmt(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def readme_section(rows: list[tuple[str, Result]], machine: str, day: date, runs: int,
                   explanations: dict[str, dict[str, str]] | None = None, rerun: list[str] | None = None) -> str:
    """The README's performance table (Markdown) from one run of the benchmark table (`rerun`:
    the benchmarks run again on their own, the other rows being the last full run's)."""
    again = (f" The rows of {', '.join(n.removeprefix('bench_') for n in rerun)} come from a later run "
             f"of those benchmarks alone on {day}." if rerun else "")
    lines = [f"Generated by `./dev bench --readme` on {day} ({machine}"
             f"{f'; each figure the median of {runs} runs' if runs > 1 else ''}). "
             "“× raw” is the ratio to the raw driver minimum of the same run; "
             "machine load moves absolute figures by about 40 %, ratios much less." + again,
             "",
             "| benchmark | measure | figure | × raw | target | met | note |",
             "|---|---|---|---|---|---|---|"]
    for name, r in rows:
        met = "" if r.ok is None else ("met" if r.ok else "missed")
        ratio = "" if r.ratio is None else f"{r.ratio:,.1f}×"
        cells = [name.removeprefix("bench_"), r.name.strip(), f"{_fmt(r.value)} {r.unit}".strip(), ratio,
                 r.target or "—", met, r.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    missed = misses.lines(rows, explanations if explanations is not None else _explanations(rows))
    lines += ["", f"Missed: {len(missed)}." if missed else "Missed: none."]
    if missed:
        lines += ["", "What each miss is, why, and the next step (from the profiles: docs/performance-*.md):", "",
                  *missed]
    return "\n".join(lines)


def _explanations(rows: list[tuple[str, Result]]) -> dict[str, dict[str, str]]:
    """Each benchmark module's WHY (bench/misses.py)."""
    return {name: getattr(importlib.import_module(f"bench.{name}"), "WHY", {})
            for name in dict.fromkeys(n for n, _ in rows) if name.startswith("bench_")}


START, END = "<!-- perf:start -->", "<!-- perf:end -->"
_ROW = re.compile(r"^\| (?P<bench>[^|]+) \| (?P<name>(?:[^|\\]|\\\|)+) \| (?P<figure>[^|]*) \| (?P<ratio>[^|]*) \| "
                  r"(?P<target>(?:[^|\\]|\\\|)*) \| (?P<met>[^|]*) \| (?P<note>.*) \|$")


def parse_rows(text: str) -> list[tuple[str, Result]]:
    """The rows of the README's performance table, as the run that wrote them returned them."""
    section = text.partition(START)[2].partition(END)[0]
    out = []
    for line in section.splitlines():
        m = _ROW.match(line)
        if not m or m["bench"] in ("benchmark", "---"):
            continue
        value, _, unit = m["figure"].strip().partition(" ")
        cell = lambda k: m[k].strip().replace("\\|", "|")  # noqa: E731
        ratio = cell("ratio").rstrip("×").replace(",", "")
        out.append((f"bench_{m['bench'].strip()}",
                    Result(cell("name"), float(value.replace(",", "") or 0), unit,
                           "" if cell("target") == "—" else cell("target"),
                           {"met": True, "missed": False}.get(cell("met")), cell("note"),
                           float(ratio) if ratio else None)))
    return out


def merge_rows(old: list[tuple[str, Result]], new: list[tuple[str, Result]]) -> list[tuple[str, Result]]:
    """`old` with the rows of every benchmark in `new` replaced by its new rows, in the same place."""
    benches = {n for n, _ in new}
    out, placed = [], set()
    for name, r in old:
        if name not in benches:
            out.append((name, r))
        elif name not in placed:
            placed.add(name)
            out += [(n, x) for n, x in new if n == name]
    return out + [(n, x) for n, x in new if n not in placed]


def replace_section(text: str, section: str) -> str:
    """`text` with only what lies between the perf markers replaced by `section`."""
    head, sep, rest = text.partition(START)
    body, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"README.md has no {START} ... {END} section")
    return f"{head}{START}\n{section}\n{END}{tail}"


def _cpus() -> int:
    import os
    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
