"""Faults: `m3 cohort` and `m3 import` SIGKILLed at random points, then run again: the database
holds exactly the rows of a clean run (compared row for row, without the surrogate ids a
PostgreSQL sequence moves on).

Each run is a real process (forked from tests/hardening/zygote.py, so that a random point of
the run is a point of its work, not of Python's imports); the kill is a SIGKILL: no cleanup,
no rollback by the process. Each kill starts from a copy of the same database (a file copy on
SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL).
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import time
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import create_engine, func, inspect, insert, select, text

from store.db import make_engine, upgrade
from store.tables import Advisor, Client, Contract
from tests.conftest import SKIP_PG
from tests.hardening import logscan
from tests.hardening.profile import PROFILE
from tests.hardening.servers import PG_ADMIN
from tests.integration.test_cohort__crash_rerun import _dump, _rows

pytestmark = pytest.mark.hardening

MONTH, TODAY = "2026-04", "2026-04-01"
BATCH = 5000  # store.importer.BATCH_ROWS: an interrupted import leaves whole batches


class Copies:
    """Copies of one prepared database, one per run."""

    def __init__(self, kind: str, tmp_path) -> None:
        self.kind, self.tmp, self.n, self.made = kind, tmp_path, 0, []
        if kind == "postgres":
            self.admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            self.base = f"m3_hard_base_{os.getpid()}_{random.randrange(1 << 30):x}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.base}"'))
            self.made.append(self.base)
            self.base_url = self.admin.url.set(database=self.base).render_as_string(hide_password=False)
        else:
            self.base_url = f"sqlite:///{tmp_path / 'base.db'}"

    def copy(self) -> str:
        self.n += 1
        if self.kind == "postgres":
            name = f"{self.base}_{self.n}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.base}"'))
            self.made.append(name)
            return self.admin.url.set(database=name).render_as_string(hide_password=False)
        path = self.tmp / f"copy-{self.n}.db"
        shutil.copyfile(self.tmp / "base.db", path)
        return f"sqlite:///{path}"

    def close(self) -> None:
        if self.kind == "postgres":
            with self.admin.connect() as conn:
                for name in reversed(self.made):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.admin.dispose()


def _databases(kinds):
    return pytest.mark.parametrize("copies", [k if k == "sqlite" else pytest.param(k, marks=pytest.mark.postgres)
                                              for k in kinds], indirect=True)


@pytest.fixture
def copies(request, tmp_path):
    if request.param == "postgres" and SKIP_PG:
        pytest.skip("M3_TEST_SKIP_POSTGRES=1")
    c = Copies(request.param, tmp_path)
    yield c
    c.close()


def _prepared(url: str, fill=None) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        if fill:
            fill(engine)
    finally:
        engine.dispose()
    if url.startswith("sqlite:///"):  # the copy must be the whole database: no pending WAL
        with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _book(engine) -> None:
    """Clients whose contracts took effect in January (April's cohort), in both agencies, some
    with advisors of record, some followed already (an open March case their new contract joins)."""
    from states.calendar import contact_window, due_date
    from store.cases import NewCase, open_cases

    n = PROFILE.cohort_clients
    with engine.begin() as conn:
        advs = [conn.execute(insert(Advisor.__table__).values(
            name=f"Conseiller Kill{i}", agency_id=("corniche", "rouviere")[i % 2], active=True,
            email=f"kill{i}@agence.example").returning(Advisor.__table__.c.id)).scalar_one() for i in range(6)]
        conn.execute(insert(Client.__table__), [dict(
            id=f"KC{i}", kind="particulier", last_name=f"Killian{i}", first_name="Odile", city="Marseille",
            postal_code="13007", phone=f"+3361299{i % 10000:04d}", email=f"odile.killian{i}@example.fr",
            agency_id=("corniche", "rouviere")[i % 2], advisor_id=advs[i % 6] if i % 3 else None) for i in range(n)])
        conn.execute(insert(Contract.__table__), [dict(
            id=f"KK{i}", client_id=f"KC{i}", family=("IARD", "Santé", "Épargne")[i % 3],
            product=("Auto", "Santé individuelle", "Assurance vie")[i % 3], effective_date=date(2026, 1, 1 + i % 28),
            status="active", premium_eur=300 + i % 700) for i in range(n)])
        followed = list(range(0, n, max(1, n // 20)))
        conn.execute(insert(Contract.__table__), [dict(
            id=f"KD{i}", client_id=f"KC{i}", family="IARD", product="Habitation", effective_date=date(2025, 12, 2),
            status="active", premium_eur=200) for i in followed])
        due = due_date(date(2025, 12, 2))
        start, end = contact_window(due)
        open_cases(conn, [NewCase(f"KC{i}", ("corniche", "rouviere")[i % 2], [f"KD{i}"], f"{due:%Y-%m}", due, start,
                                  end, advs[i % 6]) for i in followed], "system:test",
                   datetime(2026, 3, 1, 6, tzinfo=timezone.utc))
    logscan.register_values([f"Killian{i}" for i in range(n)], [f"odile.killian{i}@example.fr" for i in range(n)])


def _kill_at_random(zygote, args, env, delay: float) -> tuple[int, str]:
    pid, out, err = zygote.start(args, env)
    time.sleep(delay)  # the fault's moment: a random point of the run (bounded by the clean run's length)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    code = zygote.wait()
    return code, err.read_text(errors="replace")


def _clean_run(zygote, url, args) -> float:
    t0 = time.monotonic()
    code, out, err = zygote.run(args, {"M3_DATABASE_URL": url})
    assert code == 0, out + err
    return time.monotonic() - t0


def _cases(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM followup_case")).scalar_one()
    finally:
        engine.dispose()


def _cohort_dump(url: str):
    engine = make_engine(url)
    try:
        return _dump(_rows(engine), portable=True)
    finally:
        engine.dispose()


@_databases(PROFILE.cohort_kill_databases)
def test_faults__cohort_killed_at_random_points_then_rerun_equals_a_clean_run(copies, zygote, figures):
    _prepared(copies.base_url, _book)
    args = ["cohort", "--month", MONTH, "--today", TODAY]
    clean_url = copies.copy()
    before = _cases(clean_url)
    seconds = _clean_run(zygote, clean_url, args)
    clean = _cohort_dump(clean_url)
    opened = _cases(clean_url) - before
    assert opened >= PROFILE.cohort_clients * 0.9, opened
    rng = random.Random(4)
    killed = committed = 0
    for k in range(PROFILE.flow_kills):
        url = copies.copy()
        code, err = _kill_at_random(zygote, args, {"M3_DATABASE_URL": url}, rng.uniform(0, 0.9 * seconds))
        killed += code == -signal.SIGKILL
        after_kill = _cases(url) - before
        assert after_kill in (0, opened), f"kill {k + 1}: {after_kill} of {opened} cases kept (one transaction)"
        committed += code == -signal.SIGKILL and after_kill == opened  # killed between its COMMIT and its exit
        assert "Traceback" not in err, err[-2000:]
        _clean_run(zygote, url, args)  # the rerun
        assert _cohort_dump(url) == clean, f"kill {k + 1} (exit {code}): rerun differs from a clean run"
    figures(f"{copies.kind}: m3 cohort ({opened} cases, clean run {seconds:.1f} s): {PROFILE.flow_kills} runs, "
            f"{killed} SIGKILLed mid-run ({killed - committed} before its commit, {committed} after), "
            f"{PROFILE.flow_kills - killed} finished first; every rerun equal to the clean run, row for row")
    assert killed >= 1


def _export(path, rows: int) -> None:
    from store.demo_book import write_demo_book

    write_demo_book(path, contracts=rows, seed=7, today=date(2026, 4, 1))
    names, emails, phones = logscan.book_values(path)
    logscan.register_values({n for n in names if len(n) >= 4}, emails, {p for p in phones if len(p) >= 8})


def _import_dump(url: str) -> dict:
    """Clients, contracts and advisors as comparable rows (advisor ids as names), and the indexes."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            adv = {r.id: (r.name, r.agency_id, r.active) for r in conn.execute(select(Advisor.__table__))}
            out = {"advisor": sorted(adv.values())}
            for t in (Client.__table__, Contract.__table__):
                rows = []
                for r in conn.execute(select(t)).mappings():
                    r = dict(r)
                    for col in ("advisor_id", "seller_id"):
                        if col in r:
                            r[col] = adv.get(r[col])
                    rows.append(tuple(sorted((k, repr(v)) for k, v in r.items())))
                out[t.name] = sorted(rows)
            insp = inspect(conn)
            out["indexes"] = sorted((t, i["name"]) for t in ("client", "contract") for i in insp.get_indexes(t))
        return out
    finally:
        engine.dispose()


@_databases(PROFILE.import_kill_databases)
def test_faults__import_killed_at_random_points_then_rerun_equals_a_clean_run(copies, zygote, tmp_path, figures):
    _prepared(copies.base_url)
    export = tmp_path / "export.csv"
    _export(export, PROFILE.import_rows)
    args = ["import", str(export), "--today", TODAY]
    clean_url = copies.copy()
    seconds = _clean_run(zygote, clean_url, args)
    clean = _import_dump(clean_url)
    assert len(clean["contract"]) > PROFILE.import_rows * 0.9
    rng = random.Random(5)
    killed = partial = 0
    for k in range(PROFILE.flow_kills):
        url = copies.copy()
        code, err = _kill_at_random(zygote, args, {"M3_DATABASE_URL": url}, rng.uniform(0, 0.9 * seconds))
        killed += code == -signal.SIGKILL
        engine = make_engine(url)
        with engine.connect() as conn:
            kept = conn.execute(select(func.count()).select_from(Contract.__table__)).scalar_one()
        engine.dispose()
        assert kept % BATCH == 0 or kept == len(clean["contract"]), f"kill {k + 1}: {kept} contracts, not whole batches"
        partial += 0 < kept < len(clean["contract"])
        assert "Traceback" not in err, err[-2000:]
        _clean_run(zygote, url, args)  # the rerun completes the rest
        assert _import_dump(url) == clean, f"kill {k + 1} (exit {code}, {kept} contracts kept): rerun differs"
    figures(f"{copies.kind}: m3 import ({len(clean['contract'])} rows, clean run {seconds:.1f} s): "
            f"{PROFILE.flow_kills} runs, {killed} SIGKILLed mid-run ({partial} after some batches were committed), "
            f"{PROFILE.flow_kills - killed} finished first; every rerun equal to the clean run (clients, contracts, "
            f"advisors, indexes)")
    assert killed >= 1
