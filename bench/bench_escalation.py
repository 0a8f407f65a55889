"""Issue 3: the daily escalation sweep over 100,000 open cases on SQLite.

A day's realistic load: 70% of the open cases 'à contacter' (most with fewer than three failed
calls; 600 due for the email today), 20% 'email envoyé' (400 past D1 business days today),
10% 'courrier envoyé' (200 past D2). The SQL selection reads all of them; only the ~1,200
candidates go through the write path (one transaction each: version check, guard, audit,
outbox). Written straight into a migrated SQLite file with sqlite3.executemany.
"""
from __future__ import annotations

import random
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench.common import Result, migrated_sqlite

N_CASES = 100_000
QUICK_CASES = 5_000
TARGET_S = 5.0
AS_OF = date(2026, 11, 18)  # a Wednesday


def _ts(d: datetime) -> str:
    return d.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, n: int, seed: int = 7) -> dict[str, int]:
    rnd = random.Random(seed)
    db = migrated_sqlite(path)
    db.execute("INSERT INTO advisor (id, name, email, agency_id, active) VALUES (1, 'Conseiller 1', 'c1@agence.example', 'corniche', 1)")
    db.executemany(
        "INSERT INTO client (id, kind, first_name, last_name, address, postal_code, city, phone, email, agency_id, "
        "advisor_id, opposition_phone, opposition_email, opposition_letter) VALUES "
        "(?, 'particulier', 'Marie', 'Dupont', '12 rue de la Corniche', '13007', 'Marseille', '+33612345678', ?, "
        "'corniche', 1, 0, 0, 0)", ((f"CL{i}", f"client{i}@example.fr") for i in range(n)))
    n_email, n_letter = n // 5, n // 10
    due_calls, due_email, due_letter = n * 6 // 1000, n * 4 // 1000, n * 2 // 1000
    paris = timezone(timedelta(hours=1))
    cases, attempts = [], []
    for i in range(n):
        if i < n_email:
            state, step = "email_envoye", 1
            ago = 12 if i < due_email else rnd.randint(1, 5)
        elif i < n_email + n_letter:
            state, step = "courrier_envoye", 2
            ago = 20 if i - n_email < due_letter else rnd.randint(1, 8)
        else:
            state, step, ago = "a_contacter", 0, None
            k = i - n_email - n_letter
            calls = ([(9, 10), (10, 15), (13, 11)] if k < due_calls else
                     [(d, h) for d, h in ((9, 10), (10, 15))][:rnd.randint(0, 2)])
            for d, h in calls:
                attempts.append((i + 1, "phone", _ts(datetime(2026, 11, d, h, 0, tzinfo=paris)), "no_answer"))
        escalated = _ts(datetime.combine(AS_OF - timedelta(days=ago), datetime.min.time(), paris).replace(hour=7)) \
            if ago else None
        cases.append((i + 1, f"CL{i}", "corniche", "2026-10", "2026-10-20", "2026-10-13", "2026-10-27", state, 1, 10,
                      step, escalated, 0, 0, 0, 1, 0, ""))
    db.executemany(
        "INSERT INTO followup_case (id, client_id, agency_id, cohort_month, due_date, window_start, window_end, state, "
        "assigned_advisor_id, priority, escalation_step, escalated_at, late, assignment_confirmed, nothing_elsewhere, "
        "version, audit_seq, audit_head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", cases)
    db.executemany("INSERT INTO contact_attempt (case_id, channel, at, outcome) VALUES (?, ?, ?, ?)", attempts)
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return {"attempts": len(attempts), "due": due_calls + due_email + due_letter}


def run(quick: bool) -> list[Result]:
    from flows.clock import resolve
    from flows.escalation import run_escalation, select_candidates
    from config import get_settings
    from store.db import make_engine

    n = QUICK_CASES if quick else N_CASES
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "esc.db"
        info = build(path, n)
        engine = make_engine(f"sqlite:///{path}")
        as_of, now = resolve(AS_OF)
        t = time.perf_counter()
        with engine.connect() as conn:
            candidates = select_candidates(conn, as_of, now, get_settings())
            conn.rollback()
        select_s = time.perf_counter() - t
        t = time.perf_counter()
        result = run_escalation(engine, as_of, now)
        sweep_s = time.perf_counter() - t
        t = time.perf_counter()
        again = run_escalation(engine, as_of, now)
        rerun_s = time.perf_counter() - t
        engine.dispose()
    changes = len(result.changes)
    return [
        Result("escalation sweep (select + write path)", sweep_s, "s", f"<= {TARGET_S:g} s",
               sweep_s <= TARGET_S if not quick else None,
               f"{n:,} open cases, {info['attempts']:,} attempts; {result.emails} emails, {result.letters} letters, "
               f"{result.unreachable} injoignables"),
        Result("candidate selection (SQL)", select_s, "s", note=f"{len(candidates):,} candidates"),
        Result("per change through the write path", (sweep_s - rerun_s) / changes * 1000 if changes else 0, "ms",
               note="(sweep - rerun) / changes"),
        Result("same-day rerun", rerun_s, "s", note=f"{len(again.changes)} changes (idempotent)"),
    ]
