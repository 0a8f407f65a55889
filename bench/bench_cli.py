"""Issue 10: how long `m3` takes to answer, as a ratio to `python -c pass` of the same run.

Each command runs in a fresh interpreter (as a user types it) on a migrated SQLite database
with a small book (the cohort has contracts to find), alternating with `python -c pass`; each
figure is the best of N wall-clock times, so other jobs on the machine weigh as little as they
can; the note gives the best CPU time (user + system) too, which other jobs move much less. Targets: `m3 --help` <= 8x, `m3 status` and `m3 cohort --dry-run` <= 20x.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Result

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (
    ("m3 --help", ["--help"], 8.0),
    ("m3 status", ["status"], 20.0),
    ("m3 cohort --dry-run", ["cohort", "--month", "2026-04", "--today", "2026-03-25", "--dry-run"], 20.0),
)



# What a miss in this table is due to, and the next step (bench/misses.py puts it in the README).
WHY = {
    "status": (
        "Why: SQLAlchemy's PostgreSQL dialect is imported even on SQLite, for the client search's "
        "trigram index options (~34 ms of CPU, ~1.2× `python -c pass`). Next: declare that index "
        "through a DDL hook compiled only on PostgreSQL (docs/performance-cli-http.md)."),
    "dry-run": (
        "Why: as for `status`, plus the `holidays` package (50–100 ms) for the contact windows. Next: "
        "the PostgreSQL item, then holidays loaded per territory (docs/performance-cli-http.md)."),
    "--help": (
        "Why: typer and rich's help rendering are most of it. Next: a help text rendered without rich "
        "(docs/performance-cli-http.md)."),
}

def _seed(url: str, path: Path) -> None:
    """A migrated database with a few contracts due in April 2026 (effective in January)."""
    from bench.common import migrated_sqlite

    db = migrated_sqlite(path)
    db.execute("INSERT INTO advisor (id, name, agency_id, active) VALUES (1, 'Conseiller', 'corniche', 1)")
    db.executemany("INSERT INTO client (id, kind, last_name, agency_id, advisor_id, opposition_phone, "
                   "opposition_email, opposition_letter) VALUES (?, 'particulier', 'Client', 'corniche', 1, 0, 0, 0)",
                   [(f"C{i}",) for i in range(50)])
    db.executemany("INSERT INTO contract (id, client_id, family, product, effective_date, status) "
                   "VALUES (?, ?, 'IARD', 'Auto', '2026-01-15', 'active')", [(f"K{i}", f"C{i}") for i in range(50)])
    db.commit()
    db.close()


def _timed(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `argv` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(quick: bool) -> list[Result]:
    runs = 3 if quick else 7
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/m3.db"
        _seed(url, Path(tmp) / "m3.db")
        env = dict(os.environ, M3_DATA_DIR=tmp, M3_DATABASE_URL=url, PYTHONPATH=str(ROOT))
        env.pop("M3_PREFECT_API_URL", None)
        env.pop("PREFECT_API_URL", None)
        env.pop("M3_TODAY", None)
        # As a user runs it: with the bytecode cache (the first run writes it; each figure is a best).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        argvs = {"python -c pass": [sys.executable, "-c", "pass"]}
        argvs |= {name: [sys.executable, "-m", "cli", *args] for name, args, _target in COMMANDS}
        wall = dict.fromkeys(argvs, float("inf"))
        cpu = dict.fromkeys(argvs, float("inf"))
        # Interleaved: a burst of load on the machine falls on every command alike.
        for _ in range(runs):
            for name, argv in argvs.items():
                w, c = _timed(argv, env)
                wall[name], cpu[name] = min(wall[name], w), min(cpu[name], c)
    base, base_cpu = wall["python -c pass"], cpu["python -c pass"]
    results.append(Result("python -c pass", base * 1000, "ms", "", None,
                          f"best of {runs}; CPU {base_cpu * 1000:.0f} ms"))
    for name, _args, target in COMMANDS:
        ratio = wall[name] / base
        results.append(Result(f"{name} / python -c pass", ratio, "ratio", f"<= {target:g}x", ratio <= target,
                              f"{wall[name] * 1000:.0f} ms, best of {runs}; CPU {cpu[name] * 1000:.0f} ms "
                              f"= {cpu[name] / base_cpu:.1f}x"))
    return results
