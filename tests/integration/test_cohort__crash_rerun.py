"""Kill the cohort anywhere, run it again: exactly the cases and joins a clean run creates.

"Anywhere" is every step of the cohort's transaction: each statement it sends to the database,
each savepoint (a join goes through the write path in one) and the COMMIT, counted on a clean
run by SQLAlchemy event listeners, so a statement added to the cohort is crashed at too. For
each step N: the same book, the cohort killed at step N (the listener raises before the step
reaches the database), every table checked row for row against the state before the run, then
a rerun checked row for row against the clean run.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import event, select

from flows import cohort
from flows.clock import resolve
from store import audit, audit_guard
from store.snapshot import CASE
from store.tables import metadata
from tests import factories as f
from tests.conftest import _truncate

MONTH = "2026-04"
CLIENTS = 16


class Killed(Exception):
    pass


def _book(engine) -> int:
    """The same book every time (explicit ids: nothing depends on the factories' counters), on an
    emptied database: new cases in two agencies (advisors of record, least-loaded assignment,
    late catch-up contracts) and a followed client whose open case a new contract joins."""
    _truncate(engine)
    with engine.begin() as conn:
        advs = [f.advisor(conn, name=f"Conseiller {i}", email=f"c{i}@agence.example",
                          agency_id="rouviere" if i == 2 else "corniche") for i in range(3)]
        for i in range(CLIENTS):
            agency = "corniche" if i % 3 else "rouviere"
            cl = f.client(conn, id=f"CL{i:02}", agency_id=agency,
                          advisor_id=(advs[i % 2] if agency == "corniche" else None))
            f.contract(conn, cl, id=f"K{i:02}", effective=date(2026, 1, 1 + i))
            if i % 4 == 0:
                f.contract(conn, cl, id=f"K{i:02}E", family="Épargne", product="Assurance vie",
                           effective=date(2025, 12, 10 + i % 20))
        # A followed client: its March case is open, its new contract joins it (through the write path).
        followed = f.client(conn, id="CL99", advisor_id=advs[0])
        case_id = f.case(conn, followed, [f.contract(conn, followed, id="K99", effective=date(2025, 12, 2))],
                         advs[0], effective=date(2025, 12, 2))
        f.contract(conn, followed, id="K99N", effective=date(2026, 1, 9))
    return case_id


def _rows(engine) -> dict[str, list[dict]]:
    """Every row of every table."""
    with engine.connect() as conn:
        return {t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in metadata.sorted_tables}


def _dump(rows: dict[str, list[dict]], portable: bool = False) -> dict[str, list[tuple]]:
    """The rows in a comparable form, sorted. `portable`: without what a killed run may shift on
    PostgreSQL (a sequence is not rolled back): case ids become (client, month), other surrogate
    ids and the hashes that cover case ids are left out."""
    key = {r["id"]: (r["client_id"], r["cohort_month"]) for r in rows[CASE.name]}
    out = {}
    for name, table_rows in rows.items():
        dumped = []
        for row in table_rows:
            row = dict(row)
            if portable:
                for col in list(row):
                    if col == "case_id" or (name == CASE.name and col == "id"):
                        row[col] = key.get(row[col], row[col])
                    elif col in ("id", "hash", "prev_hash", "audit_head"):
                        del row[col]
            dumped.append(tuple(sorted((k, repr(v)) for k, v in row.items())))
        out[name] = sorted(dumped)
    return out


def _restore(engine, saved: dict[str, list[dict]]) -> None:
    """Put back the tables that differ from `saved` (a DELETE and the saved rows, the audit
    trail's guard lifted inside the transaction as the test fixtures do): the book again, quickly."""
    current = _dump(_rows(engine))
    wanted = _dump(saved)
    changed = [t for t in metadata.sorted_tables if current[t.name] != wanted[t.name]]
    with engine.begin() as conn:
        audit_guard.uninstall(conn)
        for t in reversed(changed):
            conn.execute(t.delete())
        for t in changed:
            if saved[t.name]:
                conn.execute(t.insert(), saved[t.name])
        audit_guard.install(conn)


class Steps:
    """Counts the cohort transaction's steps (its statements, savepoints and COMMIT, in order);
    raises Killed at step `crash_at`, before that step reaches the database."""

    def __init__(self, engine, crash_at: int | None = None) -> None:
        self.engine, self.crash_at, self.seen = engine, crash_at, []

    def _step(self, what: str) -> None:
        self.seen.append(what)
        if len(self.seen) == self.crash_at:
            raise Killed(f"step {self.crash_at}: {what}")

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        self._step(" ".join(statement.split())[:80])

    def _commit(self, conn):
        self._step("COMMIT")

    def _savepoint(self, conn, name):
        self._step("SAVEPOINT")

    def _release(self, conn, name, context):
        self._step("RELEASE SAVEPOINT")

    def _listeners(self):
        return (("before_cursor_execute", self._statement), ("commit", self._commit),
                ("savepoint", self._savepoint), ("release_savepoint", self._release))

    def __enter__(self) -> Steps:
        for name, fn in self._listeners():
            event.listen(self.engine, name, fn)
        return self

    def __exit__(self, *exc) -> None:
        for name, fn in self._listeners():
            event.remove(self.engine, name, fn)


def _run(engine):
    as_of, now = resolve(f"{MONTH}-01", cohort.RUN_TIME)
    return cohort.run_cohort(engine, MONTH, as_of, now)


def _planned(result) -> tuple:
    """The run's outcome, without case ids (a sequence may have moved on)."""
    return (sorted((c.client_id, c.agency_id, c.contract_ids, c.advisor_id, c.priority, c.due_date, c.late)
                   for c in result.cases),
            [(j.case_id, j.contract_ids, j.counts_toward) for j in result.joined],
            [(s.contract_id, s.reason) for s in result.skipped])


def test_cohort__crash_anywhere_then_rerun_equals_a_clean_run(engine):
    joining = _book(engine)
    book = _rows(engine)
    before = _dump(book)
    with Steps(engine) as clean_steps:
        clean = _run(engine)
    clean_rows = _rows(engine)
    clean_exact, clean_portable = _dump(clean_rows), _dump(clean_rows, portable=True)
    # The book exercises what the cohort does: new cases (late ones too) in both agencies, a join.
    assert len(clean.cases) == CLIENTS and sum(c.late for c in clean.cases) == 4
    assert {c.agency_id for c in clean.cases} == {"corniche", "rouviere"}
    assert [(j.case_id, j.contract_ids) for j in clean.joined] == [(joining, ("K99N",))]
    steps = clean_steps.seen
    assert steps[-1] == "COMMIT" and sum(s.startswith(("INSERT", "COPY")) for s in steps) >= 3, steps  # COPY: PostgreSQL

    for n in range(1, len(steps) + 1):
        _restore(engine, book)
        assert _dump(_rows(engine)) == before
        with Steps(engine, crash_at=n) as crashing:
            try:
                _run(engine)
            except Killed:
                pass
            else:
                raise AssertionError(f"step {n} ({steps[n - 1]}) was never reached")
        assert crashing.seen == steps[:n], (n, crashing.seen)  # the same run, up to its death
        # Nothing of the killed run is left, the join included: the database is as it was.
        assert _dump(_rows(engine)) == before, f"killed at step {n} ({steps[n - 1]}): rows were kept"
        rerun = _run(engine)
        after = _rows(engine)
        assert _planned(rerun) == _planned(clean), f"rerun after step {n}"
        assert _dump(after, portable=True) == clean_portable, f"rerun after step {n} ({steps[n - 1]})"
        if engine.dialect.name == "sqlite":  # no sequence moves on: the very same rows, ids and hashes
            assert _dump(after) == clean_exact, f"rerun after step {n}"
        with engine.connect() as conn:
            assert audit.verify_all(conn)[2] == []
            assert conn.execute(select(CASE.c.version).where(CASE.c.id == joining)).scalar_one() == 2
    again = _run(engine)  # and once more: nothing
    assert (again.cases, again.joined, again.skipped) == ([], [], [])
    assert _dump(_rows(engine), portable=True) == clean_portable
