"""Run every benchmark (bench/bench_*.py) and print one table.

    python -m bench.run            # full sizes (the issues' targets)
    python -m bench.run --quick    # small sizes, a smoke run
    python -m bench.run import     # only benchmarks whose module name contains "import"

Each module has `run(quick: bool) -> list[Result]`. Benchmarks print numbers and ratios; the
test suite never asserts on speed.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import sys
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

import bench


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="substrings of benchmark module names")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
                   if m.name.startswith("bench_") and (not args.only or any(o in m.name for o in args.only)))
    table = Table(title=f"Suivi M+3 benchmarks — {date.today()} — {platform.machine()} "
                        f"{_cpus()} cores, Python {platform.python_version()}{' (quick)' if args.quick else ''}")
    for col in ("benchmark", "measure", "value", "unit", "target", "ok", "note"):
        table.add_column(col, justify="right" if col == "value" else "left")
    failed = False
    for name in names:
        start = time.perf_counter()
        try:
            results = importlib.import_module(f"bench.{name}").run(args.quick)
        except Exception as exc:  # a broken benchmark is reported, the others still run
            table.add_row(name, "ERROR", "", "", "", "✗", f"{type(exc).__name__}: {exc}"[:80])
            failed = True
            continue
        for r in results:
            mark = "" if r.ok is None else ("✓" if r.ok else "✗")
            table.add_row(name.removeprefix("bench_"), r.name, f"{r.value:,.3f}".rstrip("0").rstrip("."),
                          r.unit, r.target, mark, r.note)
        print(f"[{name} took {time.perf_counter() - start:.1f} s]", file=sys.stderr)
    Console(width=160).print(table)
    return 1 if failed else 0


def _cpus() -> int:
    import os
    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
