"""Import of the CRM export: 1,000,000 contract rows (quick: 20,000) into a fresh SQLite file.

Targets (issue 10): ≤ 35 s of CPU (the writer and its parsing worker together), ≤ 25 s of wall
time on idle cores, peak memory ≤ 400 MB. The book is written by the demo generator beforehand
(not timed). The import runs in a child process so that the peak RSS reported is the import's
own, measured by the child (ru_maxrss) and sent back as JSON. On a large file the import forks a
parsing worker: the memory target is on the sum of both peaks (an upper bound of what they held
together), the CPU target on both processes' time; each process's own figures are rows too
(docs/performance-import.md). The wall time is only comparable on idle cores: the note says the
load average the run met.

A third run measures what the CRM's next export costs when it meets the write path: a cohort
opened (the April cases), 300 of their clients' phones corrected through the write path, then
the export re-sent with the city changed for 1 client in 20 and for those 300 (not timed); the
import of that file is timed: standing corrections, and one audit record per open case whose
client changed (store.import_corrections).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from bench.common import Result

TARGET_S, TARGET_CPU_S, TARGET_MB = 25.0, 35.0, 400.0



# What a miss in this table is due to, and the next step (bench/misses.py puts it in the README).
WHY = {
    "import CPU, both processes": (
        "Why: ~12 µs a row is SQLite's own work; the rest is Python spread over many small steps "
        "(parser: client values and phone normalisation 29 %, row checks 28 %; writer: the client "
        "and contract upserts 43 %, unpacking batches 12 %, search keys 11 %). Next: the worker "
        "builds the upserts' final rows with their search keys, so the writer only fills in "
        "advisor ids; then one pass over each common row in the parser (docs/performance-import.md)."),
    "import 1": (
        "Why: the writer plus the index rebuild at the end set the wall time; on shared cores the "
        "parser and the writer also wait for each other. Next: as for the CPU "
        "(docs/performance-import.md)."),
}

def _child(csv_path: str, db_path: str, changed: bool = False) -> None:
    from bench.common import peak_rss_mb
    from store.db import make_engine, upgrade
    from store.importer import import_file

    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    extra = _changed_export(engine, csv_path) if changed else {}
    if changed:
        csv_path = extra.pop("path")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # only the import's own worker counts
    start, cpu = time.perf_counter(), time.process_time()
    s = import_file(engine, csv_path, now=_NOW)
    seconds, writer_cpu = time.perf_counter() - start, time.process_time() - cpu
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parsing worker, once joined
    parser_cpu = worker.ru_utime + worker.ru_stime - before.ru_utime - before.ru_stime
    print(json.dumps({"seconds": seconds, "cpu": writer_cpu + parser_cpu, "writer_cpu": writer_cpu,
                      "parser_cpu": parser_cpu, "load": os.getloadavg()[0],
                      "read": s.read, "imported": s.imported, "rejected": s.rejected,
                      "clients_updated": s.clients_updated, "cases_audited": s.cases_audited,
                      "conflicts": len(s.conflicts), **extra,
                      "writer_mb": peak_rss_mb(), "parser_mb": peak_rss_mb(children=True),
                      "peak_mb": peak_rss_mb() + peak_rss_mb(children=True)}))


_NOW = datetime(2026, 4, 20, 5, tzinfo=timezone.utc)
CORRECTED = 300


def _changed_export(engine, csv_path: str) -> dict:
    """Open April's cohort, correct CORRECTED phones, write the next export (see the module doc)."""
    import csv as csvlib
    import zlib

    from flows.cohort import run_cohort
    from states.commands import CorrectClient
    from states.errors import DomainError
    from store.write_path import execute

    cohort = run_cohort(engine, "2026-04", date(2026, 4, 1), _NOW)
    corrected = set()
    for case in cohort.cases:
        if len(corrected) >= CORRECTED:
            break
        try:
            execute(engine, case.case_id, 1, CorrectClient({"phone": "06 11 22 33 44"}), "user:bench", _NOW)
            corrected.add(case.client_id)
        except DomainError:  # an overseas client: that number is not valid there
            pass
    out = Path(csv_path).with_name("book-next.csv")
    with open(csv_path, encoding="utf-8", newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        reader, writer = csvlib.reader(src, delimiter=";"), csvlib.writer(dst, delimiter=";", lineterminator="\r\n")
        header = next(reader)
        writer.writerow(header)
        client_i, city_i = header.index("client_id"), header.index("city")
        for row in reader:
            if row[client_i] in corrected or zlib.crc32(row[client_i].encode()) % 20 == 0:
                row[city_i] += " Cedex"
            writer.writerow(row)
    return {"path": str(out), "open_cases": len(cohort.cases), "corrected": len(corrected)}


def _run_child(csv_path: Path, db_path: Path, *flags: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.bench_import", str(csv_path), str(db_path), *flags],
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
        changed = _run_child(csv_path, db_path, "--changed")  # the next export, against open cases
    size = f"{rows:,} rows".replace(",", " ")
    return [
        Result(f"generate {size}", generated, "s", note="demo-data, not part of the target"),
        Result(f"import {size}", first["seconds"], "s", f"<= {TARGET_S:.0f} s (idle cores)",
               first["seconds"] <= TARGET_S,
               f"wall; load average {first['load']:.1f} at the end; imported {first['imported']}, "
               f"rejected {first['rejected']}"),
        Result("import CPU, both processes", first["cpu"], "s", f"<= {TARGET_CPU_S:.0f} s", first["cpu"] <= TARGET_CPU_S,
               f"writer {first['writer_cpu']:.1f} s + parser {first['parser_cpu']:.1f} s"),
        Result("import CPU, writer", first["writer_cpu"], "s", note="classify, advisors, search keys, SQLite"),
        Result("import CPU, parser", first["parser_cpu"], "s", note="read, check, normalise, hash, marshal"),
        Result("import rate", first["read"] / first["seconds"], "rows/s"),
        Result("import peak memory", first["peak_mb"], "MB", f"<= {TARGET_MB:.0f} MB", first["peak_mb"] <= TARGET_MB,
               f"writer {first['writer_mb']:.0f} MB + parser {first['parser_mb']:.0f} MB"),
        Result("import peak memory, writer", first["writer_mb"], "MB"),
        Result("import peak memory, parser", first["parser_mb"], "MB"),
        Result(f"re-import {size} (unchanged)", again["seconds"], "s",
               note=f"{again['read'] / again['seconds']:,.0f} rows/s; cpu {again['cpu']:.1f} s "
                    f"(writer {again['writer_cpu']:.1f} + parser {again['parser_cpu']:.1f})"),
        Result("re-import peak memory", again["peak_mb"], "MB", f"<= {TARGET_MB:.0f} MB", again["peak_mb"] <= TARGET_MB),
        Result(f"re-import {size}, clients changed", changed["seconds"], "s",
               note=f"cpu {changed['cpu']:.1f} s; {changed['clients_updated']} clients changed, "
                    f"{changed['cases_audited']} of {changed['open_cases']} open cases audited, "
                    f"{changed['conflicts']} standing corrections"),
    ]


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], changed="--changed" in sys.argv[3:])
