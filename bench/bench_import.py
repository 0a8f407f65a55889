"""Import of the CRM export: 1,000,000 contract rows (quick: 20,000) into a fresh SQLite file.

Targets (issue §6): ≤ 30 s and peak memory ≤ 400 MB. The book is written by the demo
generator beforehand (not timed). The import runs in a child process so that the peak RSS
reported is the import's own, measured by the child (ru_maxrss) and sent back as JSON. On a
large file the import forks a parsing worker: the memory reported is the sum of both peaks
(an upper bound of what they held together), and the CPU both processes' time.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import Result

TARGET_S, TARGET_MB = 30.0, 400.0


def _child(csv_path: str, db_path: str) -> None:
    from bench.common import peak_rss_mb
    from store.db import make_engine, upgrade
    from store.importer import import_file

    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    start, cpu = time.perf_counter(), time.process_time()
    s = import_file(engine, csv_path)
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parsing worker, once joined
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "cpu": time.process_time() - cpu + worker.ru_utime + worker.ru_stime,
                      "read": s.read, "imported": s.imported, "rejected": s.rejected,
                      "peak_mb": peak_rss_mb() + peak_rss_mb(children=True)}))


def _run_child(csv_path: Path, db_path: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.bench_import", str(csv_path), str(db_path)],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[Result]:
    from store.demo_book import write_demo_book

    rows = 20_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="m3-bench-import-") as tmp:
        csv_path, db_path = Path(tmp) / "book.csv", Path(tmp) / "m3.db"
        start = time.perf_counter()
        write_demo_book(csv_path, contracts=rows, seed=42, today=date(2026, 4, 15))
        generated = time.perf_counter() - start
        first = _run_child(csv_path, db_path)
        again = _run_child(csv_path, db_path)  # re-import: every row unchanged
    size = f"{rows:,} rows".replace(",", " ")
    return [
        Result(f"generate {size}", generated, "s", note="demo-data, not part of the target"),
        Result(f"import {size}", first["seconds"], "s", f"<= {TARGET_S:.0f} s", first["seconds"] <= TARGET_S,
               f"cpu {first['cpu']:.1f} s (both processes); imported {first['imported']}, rejected {first['rejected']}"),
        Result("import rate", first["read"] / first["seconds"], "rows/s"),
        Result("import peak memory", first["peak_mb"], "MB", f"<= {TARGET_MB:.0f} MB", first["peak_mb"] <= TARGET_MB),
        Result(f"re-import {size} (unchanged)", again["seconds"], "s", note=f"{again['read'] / again['seconds']:,.0f} rows/s"),
        Result("re-import peak memory", again["peak_mb"], "MB", f"<= {TARGET_MB:.0f} MB", again["peak_mb"] <= TARGET_MB),
    ]


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
