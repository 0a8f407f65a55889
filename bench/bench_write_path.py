"""Issue 2: the write path's cost per change on SQLite, against the raw minimum of the same work.

One change = store.write_path.execute: load the case, check its version, let the domain decide
(guards, calling rules), UPDATE the case WHERE id AND version, the inserts, the audit record,
the outbox, COMMIT. The raw minimum is what no write path can beat on this machine and file
system: python's sqlite3 on a WAL file (synchronous=NORMAL), one UPDATE of a case-like row, one
INSERT of an audit-like row, one COMMIT. Both are measured in the same run, so the ratio holds
even when the machine is busy.

For scale: building a `transitions.Machine` per case (what principle 1 forbids) and a trigger on
the shared machine (`states.lifecycle.next_state`, what the write path does).
"""
from __future__ import annotations

import gc
import sqlite3
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, update

from bench.common import Result
from states.calendar import contact_window, due_date
from states.commands import AddOutcome, CorrectClient, FireEvent, RecordAttempt
from states.lifecycle import TRANSITIONS, State, next_state
from states.records import AttemptOutcome, Channel, OutcomeKind
from store.cases import NewCase, open_cases
from store.db import make_engine, upgrade
from store.snapshot import CASE
from store.tables import Advisor, Client, Contract
from store.write_path import execute

N_CASES = 1_000
N_CHANGES = 10_000
QUICK_CHANGES = 500
QUICK_CASES = 50  # so the quick run also walks all ten rounds of the script
TARGET_MS = 1.0
TARGET_RATIO = 5.0

# A Wednesday, 10:30 in Paris: inside the consumer calling hours (D223-9).
NOW = datetime(2026, 4, 15, 8, 30, tzinfo=timezone.utc)
CLIENT = dict(kind="particulier", last_name="Dupont", first_name="Marie", address="12 rue de la Corniche",
              postal_code="13007", city="Marseille", phone="+33612345678", email="marie.dupont@example.fr",
              marital_status="marié(e)", professional_status="salariée", agency_id="corniche")


def _seed(engine, n_cases: int) -> list[int]:
    """n_cases cases in à contacter, one valid particulier client and one contract each,
    assignment confirmed (so `valider_fiche` passes its guard once the case is reached)."""
    effective = date(2026, 1, 15)
    due = due_date(effective)
    start, end = contact_window(due)
    with engine.begin() as conn:
        adv_ids = [conn.execute(insert(Advisor.__table__).values(
            name=f"Conseiller {i}", agency_id="corniche", active=True, email=f"c{i}@agence.example",
        ).returning(Advisor.__table__.c.id)).scalar_one() for i in range(10)]
        conn.execute(insert(Client.__table__), [dict(CLIENT, id=f"CL{i}", advisor_id=adv_ids[i % 10])
                                                for i in range(n_cases)])
        conn.execute(insert(Contract.__table__), [
            dict(id=f"K{i}", client_id=f"CL{i}", family="IARD", product="Auto", effective_date=effective,
                 status="active", premium_eur=600) for i in range(n_cases)])
        ids = open_cases(conn, [NewCase(f"CL{i}", "corniche", [f"K{i}"], f"{due:%Y-%m}", due, start, end,
                                        adv_ids[i % 10]) for i in range(n_cases)], "system:bench",
                         NOW - timedelta(days=1))  # opened before the attempts it will record
        conn.execute(update(CASE).values(assignment_confirmed=True))
    return ids


def _script(round_no: int):
    """The command a case gets in a given round: (kind, command). Ten rounds walk a case from
    à contacter to fiche validée with corrections, attempts and bilan outcomes on the way."""
    at = NOW - timedelta(minutes=5)
    script = [
        ("correct_phone", CorrectClient({"phone": "06 12 34 56 79"})),
        ("attempt_phone", RecordAttempt(Channel.PHONE, at, AttemptOutcome.NO_ANSWER, None)),
        ("correct_email", CorrectClient({"email": "marie.dupont2@example.fr"})),
        ("attempt_email", RecordAttempt(Channel.EMAIL, at, AttemptOutcome.SENT, None)),
        ("fire_joindre", FireEvent("joindre")),
        ("fire_valider_fiche", FireEvent("valider_fiche")),  # guard: fiche_complete (client loaded)
        ("add_outcome", AddOutcome(OutcomeKind.COMPLEMENTARY_NEED, "devis habitation")),
        ("attempt_phone", RecordAttempt(Channel.PHONE, at, AttemptOutcome.REACHED, None)),
        ("correct_phone", CorrectClient({"phone": "+33612345678"})),
        ("add_outcome", AddOutcome(OutcomeKind.TECHNICAL_QUESTION, "franchise bris de glace",
                                   answer="aucune franchise en réparation")),  # a question carries its answer
    ]
    return script[round_no % len(script)]


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def measure_write_path(tmp: Path, n_changes: int, n_cases: int = N_CASES) -> tuple[list[float], dict[str, list[float]]]:
    """Seconds per change (overall, by command kind). Raises if any change fails."""
    engine = make_engine(f"sqlite:///{tmp / 'm3.db'}")
    upgrade(engine)
    try:
        ids = _seed(engine, n_cases)
        versions = {i: 1 for i in ids}
        all_t: list[float] = []
        by_kind: dict[str, list[float]] = {}
        gc.collect()
        clock = time.perf_counter
        for n in range(n_changes):
            case_id = ids[n % len(ids)]
            kind, cmd = _script(n // len(ids))
            t0 = clock()
            res = execute(engine, case_id, versions[case_id], cmd, "advisor:1", NOW)
            dt = clock() - t0
            versions[case_id] = res.version
            all_t.append(dt)
            by_kind.setdefault(kind, []).append(dt)
        return all_t, by_kind
    finally:
        engine.dispose()


def measure_raw_sqlite(tmp: Path, n: int) -> list[float]:
    """The floor: sqlite3, WAL, synchronous=NORMAL, one UPDATE + one INSERT + one COMMIT."""
    conn = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, state TEXT, version INTEGER, audit_seq INTEGER, "
                     "audit_head TEXT, updated_at TEXT)")
        conn.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, case_id INTEGER, seq INTEGER, at TEXT, actor TEXT, "
                     "action TEXT, changes TEXT, reason TEXT, prev_hash TEXT, hash TEXT, UNIQUE (case_id, seq))")
        conn.executemany("INSERT INTO c VALUES (?, 'a_contacter', 1, 0, '', NULL)", [(i,) for i in range(N_CASES)])
        versions = [1] * N_CASES
        head = "0" * 64
        changes = '{"client.phone":["+33612345678","+33612345679"]}'
        out: list[float] = []
        clock = time.perf_counter
        for k in range(n):
            cid = k % N_CASES
            v = versions[cid]
            at = NOW.isoformat()
            t0 = clock()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE c SET version = ?, audit_seq = ?, audit_head = ?, updated_at = ? "
                         "WHERE id = ? AND version = ?", (v + 1, v, head, at, cid, v))
            conn.execute("INSERT INTO a (case_id, seq, at, actor, action, changes, reason, prev_hash, hash) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (cid, v, at, "advisor:1", "correct_client", changes, None, head, head))
            conn.execute("COMMIT")
            out.append(clock() - t0)
            versions[cid] = v + 1
        return out
    finally:
        conn.close()


def measure_machines(n_build: int, n_trigger: int) -> tuple[list[float], list[float]]:
    from transitions import Machine

    class Model:
        pass

    build: list[float] = []
    for _ in range(n_build):
        t0 = time.perf_counter()
        m = Machine(model=Model(), states=[s.value for s in State], initial=State.A_CONTACTER.value,
                    auto_transitions=False, ignore_invalid_triggers=False)
        for t in TRANSITIONS:
            m.add_transition(t.event, [s.value for s in t.sources], t.dest.value)
        build.append(time.perf_counter() - t0)
    trig: list[float] = []
    for _ in range(n_trigger):
        t0 = time.perf_counter()
        next_state("a_contacter", "joindre")
        trig.append(time.perf_counter() - t0)
    return build, trig


def run(quick: bool) -> list[Result]:
    n = QUICK_CHANGES if quick else N_CHANGES
    n_cases = QUICK_CASES if quick else N_CASES
    with tempfile.TemporaryDirectory(prefix="m3-bench-wp-") as d:
        tmp = Path(d)
        raw = measure_raw_sqlite(tmp, n)
        all_t, by_kind = measure_write_path(tmp, n, n_cases)
    build, trig = measure_machines(50 if quick else 300, 1_000 if quick else 10_000)
    ms = 1e3
    med = statistics.median(all_t) * ms
    raw_med = statistics.median(raw) * ms
    ratio = med / raw_med
    results = [
        Result("change, median (load, guard, apply, audit, commit)", med, "ms", f"<= {TARGET_MS:g} ms",
               med <= TARGET_MS, f"{n:,} changes, {n_cases:,} cases, SQLite WAL"),
        Result("change, p99", _pct(all_t, 99) * ms, "ms"),
        Result("raw sqlite3 minimum, median (UPDATE+INSERT+COMMIT)", raw_med, "ms", "", None,
               f"p99 {_pct(raw, 99) * ms:.3f} ms"),
        Result("ratio change / raw minimum", ratio, "x", f"<= {TARGET_RATIO:g}", ratio <= TARGET_RATIO),
    ]
    for kind, ts in by_kind.items():
        results.append(Result(f"  {kind}, median", statistics.median(ts) * ms, "ms", "", None,
                              f"n={len(ts):,}, p99 {_pct(ts, 99) * ms:.3f} ms"))
    results += [
        Result("for scale: transitions.Machine built per case, median", statistics.median(build) * ms, "ms",
               "", None, "principle 1 forbids it"),
        Result("for scale: trigger on the shared machine (next_state)", statistics.median(trig) * 1e6, "µs"),
    ]
    return results


if __name__ == "__main__":
    for r in run(quick=False):
        print(f"{r.name:60s} {r.value:10.3f} {r.unit:3s} {r.target:10s} {'' if r.ok is None else r.ok} {r.note}")
