"""Issue 10: how long `m3` takes to answer, as a ratio to `python -c pass` of the same run.

Each command runs in a fresh interpreter (as a user types it) on a migrated SQLite database
with a small book (the cohort has contracts to find), alternating with `python -c pass`; each
figure is the best of N wall-clock times, so other jobs on the machine weigh as little as they
can. Targets: `m3 --help` <= 8x, `m3 status` and `m3 cohort --dry-run` <= 20x.
"""
from __future__ import annotations

import os
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


def _best(argv: list[str], env: dict, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


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
        baseline = float("inf")
        times = {}
        # Interleaved: a burst of load on the machine falls on every command alike.
        for _ in range(runs):
            baseline = min(baseline, _best([sys.executable, "-c", "pass"], env, 1))
            for name, args, _target in COMMANDS:
                times[name] = min(times.get(name, float("inf")),
                                  _best([sys.executable, "-m", "cli", *args], env, 1))
    results.append(Result("python -c pass", baseline * 1000, "ms", "", None, f"best of {runs}"))
    for name, _args, target in COMMANDS:
        ratio = times[name] / baseline
        results.append(Result(f"{name} / python -c pass", ratio, "ratio", f"<= {target:g}x", ratio <= target,
                              f"{times[name] * 1000:.0f} ms, best of {runs}"))
    return results
