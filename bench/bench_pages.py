"""Issue 8: the pages and lists at 100,000 cases, on SQLite and PostgreSQL.

Server time of each target, measured in-process: an HTTP request through Starlette's
TestClient into the app (session or token, routing, the queries, the rendering of the page or
the JSON), one at a time, the clock's wall time around `client.get`. No network and no
concurrency: what one request costs the server. Targets (issue 8, "Performance"):
"Mes dossiers", a case page and the agency-wide list p50 <= 30 ms and p99 <= 150 ms; the
manager's statistics for one agency <= 300 ms. The other rows (searches, the manager's lists,
an admin's statistics) are there for scale.

The book: bench/pages_book.py (100,000 cases over 24 monthly cohorts, three agencies, ~60
advisors with a few hundred open cases each). `--quick`: 3,000 cases and a few requests each,
a smoke run. PostgreSQL: a database created for the run and dropped after it.
"""
from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text

from bench.common import Result
from bench.pages_book import NOW, Book, seed

N_CASES = 100_000
QUICK_CASES = 3_000
PG_ADMIN = os.environ.get("M3_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "banc d'essai des pages"
P50_MS, P99_MS, STATS_MS = 30.0, 150.0, 300.0


@dataclass(frozen=True)
class Target:
    name: str
    p50: float | None = None  # ms; None: no target (for scale)
    p99: float | None = None


TARGETS = {
    "dossiers": Target('"Mes dossiers" (advisor, own open cases)', P50_MS, P99_MS),
    "dossiers_all": Target('"Mes dossiers", every case of each group (?tout=1)'),
    "case": Target("case page /dossiers/{id}", P50_MS, P99_MS),
    "api_list": Target("agency list GET /api/cases (manager, default sort)", P50_MS, P99_MS),
    "api_list_mix": Target("agency list GET /api/cases (manager, other sorts and filters)", P50_MS, P99_MS),
    "api_list_admin": Target("all agencies GET /api/cases (admin, sorts and filters)", P50_MS, P99_MS),
    "manager_lists": Target("manager's lists (api/queries/manager.py: late, open, missed, advisors), direct calls",
                            P50_MS, P99_MS),
    "reassign": Target("manager's reassignment page /manager/reassigner (300 rows)"),
    "stats": Target("statistics of one agency GET /api/stats?agency=", STATS_MS, None),
    "stats_admin": Target("statistics of every agency GET /api/stats (admin)"),
    "dashboard": Target("manager's dashboard /manager (month's figures, late cases)"),
    "agency_search": Target('agency-wide search /dossiers?perimetre=agence&q=', P50_MS, P99_MS),
    "compliance_search": Target("compliance search /conformite?q= (name, phone)"),
}



# What a miss in this table is due to, and the next step (bench/misses.py puts it in the README).
WHY = {
    '"Mes dossiers" (advisor, own open cases)': (
        "Why: the statements are index reads (8 per page, child rows by one array of ids on "
        "PostgreSQL); the time is Python's: the grouping rules asked of each of ~280 open cases "
        "(D223-9 in the client's time zone, names, badges), the rows' type processing and the "
        "rendering of 3 groups. Next: decide the groups' order in SQL and run the per-case rules only "
        "for the rows shown (40 a group) (docs/performance-pages.md)."),
    "case page /dossiers/{id}": (
        "Why: the page is the whole case detail (each part read once, 16 statements: 16 round trips "
        "on PostgreSQL) plus the call script and the bilan's gap rules. Next: the child tables in one "
        "JSON-aggregating statement on PostgreSQL (docs/performance-case-detail.md)."),
    "agency list GET /api/cases": (
        "Why: the page's ids come from an index in order; what is left is the count of the filtered "
        "cases and, for sorts without an index, a sort of narrow case rows. Next: an index for each "
        "sort people use, read from the logs (docs/performance-pages.md)."),
    "agency-wide search": (
        "Why: SQLite cannot seek `LIKE '%…%'`: it scans the folded-name index of 100,000 clients; "
        "PostgreSQL's trigram index finds the words, then the cases are read and grouped like Mes "
        "dossiers. Next: SQLite FTS5 (trigram tokenizer) over the folded keys (docs/performance-pages.md)."),
    "statistics of one agency": (
        "Why: three GROUP BY statements over the agency's 50,000 cases (the outcomes and actions "
        "joined per case), each already read from covering indexes in group order. Next: keep each "
        "case's outcome and action counts on its row, as the document counts are, so the figures are "
        "one GROUP BY (docs/performance-pages.md)."),
}

def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _users(engine: Engine, book: Book) -> dict[str, tuple[str, str | None]]:
    """username -> (role, API token). Advisors with users: a few of the biggest agency's."""
    from argon2 import PasswordHasher

    from api import auth
    from api.roles import Role

    auth._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)  # the bench's logins only
    out = {}
    with engine.begin() as conn:
        for j, adv in enumerate(book.advisors["corniche"][:6]):
            _, token = auth.create_user(conn, f"conseil{j}", Role.ADVISOR, "corniche", NOW, advisor_id=adv)
            out[f"conseil{j}"] = ("advisor", token)
        for name, role, agency in (("resp", Role.MANAGER, "corniche"), ("admin", Role.ADMIN, None),
                                   ("conformite", Role.COMPLIANCE, None)):
            _, token = auth.create_user(conn, name, role, agency, NOW)
            out[name] = (role.value, token)
        for name in out:
            auth.set_password(conn, name, PASSWORD, NOW, 8)
    return out


def login(client, username: str, password: str = PASSWORD) -> None:
    """Log a TestClient in through the login page (its CSRF token first)."""
    from selectolax.lexbor import LexborHTMLParser

    page = client.get("/connexion")
    token = LexborHTMLParser(page.text).css_first('input[name="csrf_token"]').attributes["value"]
    resp = client.post("/connexion", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)
    if resp.status_code != 303:
        raise RuntimeError(f"login {username}: {resp.status_code}")


def _time(client, paths: list[str], headers: dict | None = None, warm: int = 2) -> list[float]:
    """ms per request, each path in turn; the first `warm` requests are not counted."""
    for p in paths[:warm]:
        client.get(p, headers=headers)
    out = []
    for p in paths:
        t0 = time.perf_counter()
        resp = client.get(p, headers=headers)
        dt = (time.perf_counter() - t0) * 1000
        if resp.status_code != 200:
            raise RuntimeError(f"GET {p}: {resp.status_code} {resp.text[:200]}")
        out.append(dt)
    return out


def _manager_lists(engine: Engine, book: Book, n: int) -> list[float]:
    """ms per call of the manager's list queries, in turn, as the manager's pages call them."""
    from datetime import timedelta

    from api.queries import manager as Q
    from states.calendar import PARIS

    today = NOW.astimezone(PARIS).date()
    adv = book.advisors["corniche"][1]
    calls = [lambda c: Q.overdue(c, "corniche", today), lambda c: Q.open_cases(c, "corniche", today),
             lambda c: Q.open_cases(c, "corniche", today, late_only=True),
             lambda c: Q.open_cases(c, "corniche", today, advisor=adv),
             lambda c: Q.missed_appointments(c, "corniche", NOW, timedelta(hours=2)),
             lambda c: Q.advisors(c, "corniche")]
    out = []
    with engine.connect() as conn:
        for j in range(n + 2):
            t0 = time.perf_counter()
            calls[j % len(calls)](conn)
            if j >= 2:
                out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(engine: Engine, book: Book, quick: bool, n: int | None = None,
            n_slow: int | None = None) -> dict[str, list[float]]:
    """ms per request for each target (keys of TARGETS); `n` requests each (`n_slow` for the
    statistics and searches)."""
    from fastapi.testclient import TestClient

    import config
    from api import auth
    from api.app import create_app

    os.environ.setdefault("M3_SESSION_SECRET", "b" * 48)
    config.get_settings.cache_clear()
    auth.forget_all()
    users = _users(engine, book)
    rng = random.Random(3)
    app = create_app(engine, clock=lambda: NOW)
    n = n or (8 if quick else 120)
    n_slow = n_slow or (3 if quick else 12)
    out: dict[str, list[float]] = {}
    advisors = [u for u, (role, _) in users.items() if role == "advisor"]
    bearer = {u: {"Authorization": f"Bearer {tok}"} for u, (_, tok) in users.items()}
    with TestClient(app) as plain:
        clients = {}
        for u in users:
            c = TestClient(app)
            c.__enter__()
            login(c, u)
            clients[u] = c
        try:
            out["dossiers"] = []
            for j in range(n):
                out["dossiers"] += _time(clients[advisors[j % len(advisors)]], ["/dossiers"], warm=1 if j < 2 else 0)
            out["dossiers_all"] = _time(clients[advisors[0]], ["/dossiers?tout=1"] * n_slow, warm=1)
            out["case"] = []
            corniche = [cid for adv in book.advisors["corniche"][:6] for cid in book.case_ids_by_advisor.get(adv, [])]
            for j in range(n):
                username = advisors[j % len(advisors)]
                mine = book.case_ids_by_advisor[book.advisors["corniche"][j % len(advisors)]]
                out["case"] += _time(clients[username], [f"/dossiers/{rng.choice(mine)}"], warm=1 if j < 2 else 0)
            assert corniche
            out["api_list"] = _time(plain, [f"/api/cases?page={rng.randrange(1, 20)}" for _ in range(n)],
                                    bearer["resp"])
            mixes = ["sort=due_date", "sort=-updated_at", "sort=state&sort=-priority", "sort=cohort_month",
                     "state=a_contacter", "state=joint_rdv&state=fiche_validee", "late=true", "caught_up=true",
                     f"advisor={book.advisors['corniche'][0]}", "cohort_month=2026-09", "priority_min=100",
                     "sort=-id", "state=cloture&sort=-updated_at"]
            out["api_list_mix"] = _time(plain, [f"/api/cases?{mixes[j % len(mixes)]}" for j in range(n)],
                                        bearer["resp"])
            out["api_list_admin"] = _time(plain, [f"/api/cases?{(['sort=-priority&sort=due_date'] + mixes)[j % 14]}"
                                                  for j in range(n)], bearer["admin"])
            out["reassign"] = _time(clients["resp"], ["/manager/reassigner", "/manager/reassigner?retard=1",
                                                      f"/manager/reassigner?de={book.advisors['corniche'][1]}"]
                                    * max(1, n // 3))
            out["manager_lists"] = _manager_lists(engine, book, n)
            out["stats"] = _time(plain, ["/api/stats?agency=corniche"] * n_slow, bearer["resp"], warm=1)
            out["stats_admin"] = _time(plain, ["/api/stats"] * n_slow, bearer["admin"], warm=1)
            out["dashboard"] = _time(clients["resp"], ["/manager"] * n_slow, warm=1)
            names = [first for first, _ in book.names[:20]] + [last for _, last in book.names[:20]]
            queries = [*(q.lower() for q in names), "helene", "lefevre", "06 12", *(p for p in book.phones[:5])]
            out["agency_search"] = _time(clients["resp"], [f"/dossiers?perimetre=agence&q={queries[j % len(queries)]}"
                                                           for j in range(n_slow * 2)], warm=1)
            out["compliance_search"] = _time(clients["conformite"], [f"/conformite?q={queries[j % len(queries)]}"
                                                                    for j in range(n_slow * 2)], warm=1)
        finally:
            for c in clients.values():
                c.__exit__(None, None, None)
    return out


def _results(label: str, timings: dict[str, list[float]], book: Book, seed_s: float,
             quick: bool = False) -> list[Result]:
    """The table's rows; a quick run (3,000 cases) says nothing of the targets, so it marks none."""
    rows = [Result(f"{label}: seeded book", book.cases, "cases", "", None,
                   f"{seed_s:.0f} s; " + ", ".join(f"{v:,} {k}" for k, v in book.counts.items() if k in
                                                   ("clients", "attempts", "requirements", "audit records")))]
    for key, target in TARGETS.items():
        ts = timings.get(key)
        if not ts:
            continue
        p50, p99 = statistics.median(ts), _pct(ts, 99)
        if target.p99 is not None:
            ok = p50 <= target.p50 and p99 <= target.p99
            goal = f"p50 <= {target.p50:g}, p99 <= {target.p99:g} ms"
        elif target.p50 is not None:
            ok, goal = p50 <= target.p50, f"<= {target.p50:g} ms"
        else:
            ok, goal = None, ""
        rows.append(Result(f"{label}: {target.name}, p50", p50, "ms", goal, None if quick else ok,
                           f"p99 {p99:.1f} ms, max {max(ts):.1f} ms, n={len(ts)}"))
    return rows


def _run_one(label: str, engine: Engine, quick: bool) -> list[Result]:
    from store.db import upgrade

    upgrade(engine)
    t0 = time.perf_counter()
    book = seed(engine, QUICK_CASES if quick else N_CASES)
    seed_s = time.perf_counter() - t0
    return _results(label, measure(engine, book, quick), book, seed_s, quick)


def run(quick: bool) -> list[Result]:
    from store.db import make_engine

    results = []
    with tempfile.TemporaryDirectory(prefix="m3-bench-pages-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/pages.db")
        try:
            results += _run_one("SQLite", engine, quick)
        finally:
            engine.dispose()
    name = f"m3_bench_pages_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no PostgreSQL here: say so in the table
        return results + [Result("PostgreSQL", 0, "", "", False, f"skipped: {type(exc).__name__}")]
    try:
        engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
        try:
            results += _run_one("PostgreSQL", engine, quick)
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return results


if __name__ == "__main__":
    import sys

    for r in run(quick="--quick" in sys.argv):
        print(f"{r.name:75s} {r.value:10.1f} {r.unit:5s} {r.target:28s} {'' if r.ok is None else r.ok} {r.note}")
