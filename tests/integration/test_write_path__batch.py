"""The write path's batch form (store.write_path.execute_batch_in), which the cohort joins
through: the same outcomes and the same rows as execute_in called once per change, in a number
of statements that does not grow with the batch, each change audited on its own case."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import event, select, update
from sqlmodel import SQLModel

from flows import cohort
from flows.clock import resolve
from states.commands import JoinContracts
from states.errors import DomainError
from store import audit
from store.errors import CaseNotFound, VersionConflict
from store.snapshot import CASE
from store.write_path import Change, ChangeResult, execute_batch_in, execute_in
from tests import factories as f

AS_OF, NOW = resolve("2026-04-01", cohort.RUN_TIME)
ACTOR = "system:cohort"
STATES = ("a_contacter", "bilan_fait", "joint_rdv", "actions_planifiees")  # before and after contrats finalisés


def _followed(conn, n: int) -> list[Change]:
    """n open cases in various states, each with a new contract of its client to join."""
    adv = f.advisor(conn)
    changes = []
    for i in range(n):
        cl = f.client(conn, advisor_id=adv, kind="professionnel" if i % 3 == 0 else "particulier")
        old = f.contract(conn, cl, effective=date(2025, 12, 10))
        case_id = f.case(conn, cl, [old], adv, effective=date(2025, 12, 10),
                         now=datetime(2026, 2, 21, 5, tzinfo=timezone.utc))
        conn.execute(update(CASE).where(CASE.c.id == case_id).values(state=STATES[i % len(STATES)]))
        new = [f.contract(conn, cl, family="Épargne", product="Assurance vie", effective=date(2026, 1, 20))]
        if i % 2:
            new.append(f.contract(conn, cl, effective=date(2026, 1, 21)))
        records = cohort._contract_records(conn, new)
        changes.append(Change(case_id, 1, JoinContracts(tuple(records[k] for k in new), date(2026, 4, 8))))
    return changes


def _state(conn) -> dict[str, list[tuple]]:
    """Every row of every table, sorted; without the surrogate ids a PostgreSQL sequence moves on
    (a rolled-back transaction keeps its nextval), the case ids kept (created before)."""
    out = {}
    for t in SQLModel.metadata.sorted_tables:
        rows = [{k: v for k, v in r.items() if k != "id" or t.name == CASE.name}
                for r in conn.execute(select(t)).mappings()]
        out[t.name] = sorted(tuple(sorted((k, repr(v)) for k, v in r.items())) for r in rows)
    return out


def _chain_breaks(conn) -> list:
    """Every case's hash chain and version against its trail (the states were set by the test's
    setup outside the write path, so they are not checked here)."""
    from store.snapshot import _AUDIT

    breaks = []
    for c in conn.execute(select(CASE.c.id, CASE.c.audit_seq, CASE.c.audit_head, CASE.c.version)):
        records = conn.execute(select(_AUDIT).where(_AUDIT.c.case_id == c.id).order_by(_AUDIT.c.seq)).all()
        breaks += audit.verify_case(records, c.id, c.audit_seq, c.audit_head, None, c.version)
    return breaks


def _one_by_one(conn, changes):
    out = []
    for c in changes:
        try:
            out.append(execute_in(conn, c.case_id, c.expected_version, c.command, ACTOR, NOW))
        except (DomainError, VersionConflict, CaseNotFound) as refused:
            out.append(refused)
    return out


def _same(a, b) -> bool:
    if isinstance(a, ChangeResult):
        return a == b
    return type(a) is type(b) and str(a) == str(b)


def test_write_path_batch__same_outcomes_and_rows_as_one_change_at_a_time(engine):
    with engine.begin() as conn:
        changes = _followed(conn, 12)
        closed = changes[3].case_id
        conn.execute(update(CASE).where(CASE.c.id == closed).values(state="cloture", closing_reason="refus"))
    changes[5] = Change(changes[5].case_id, 7, changes[5].command)  # a stale version
    changes.append(Change(999_999, 1, changes[0].command))  # no such case
    with engine.connect() as conn:
        with conn.begin() as tx:
            expected = _one_by_one(conn, changes)
            rows_expected = _state(conn)
            tx.rollback()
        with conn.begin() as tx:
            got = execute_batch_in(conn, changes, ACTOR, NOW)
            rows_got = _state(conn)
            assert _chain_breaks(conn) == []
            tx.rollback()
    assert all(_same(a, b) for a, b in zip(expected, got)), (expected, got)
    assert [type(o).__name__ for o in got].count("ChangeResult") == 10
    assert isinstance(got[3], DomainError) and isinstance(got[5], VersionConflict) and got[5].current == 1
    assert isinstance(got[-1], CaseNotFound)
    assert rows_got == rows_expected


def _statements(engine, n: int) -> int:
    with engine.begin() as conn:
        changes = _followed(conn, n)
    seen = []
    with engine.connect() as conn:
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(conn, "before_cursor_execute", listener)
        with conn.begin() as tx:
            outcomes = execute_batch_in(conn, changes, ACTOR, NOW)
            tx.rollback()
        event.remove(conn, "before_cursor_execute", listener)
    assert all(isinstance(o, ChangeResult) for o in outcomes)
    return len(seen)


def test_write_path_batch__statements_do_not_grow_with_the_batch(engine):
    # Each batch has cases before and after contrats finalisés (links, a pièces action).
    assert _statements(engine, 4) == _statements(engine, 40)


def test_write_path_batch__each_case_at_most_once(engine):
    with engine.begin() as conn:
        [c] = _followed(conn, 1)
        try:
            execute_batch_in(conn, [c, c], ACTOR, NOW)
        except ValueError:
            pass
        else:
            raise AssertionError("a batch changing one case twice must be refused")


def test_cohort__a_case_changed_between_plan_and_write_is_joined_at_its_new_version(engine):
    with engine.begin() as conn:
        [c] = _followed(conn, 1)
    with engine.begin() as conn:
        result = cohort.plan(conn, "2026-04", AS_OF)
        [j] = result.joined
        assert (j.case_id, j.version) == (c.case_id, 1)
        # Another writer moves the case on after the plan read it (a note, through the write path).
        from states.commands import AddNote
        execute_in(conn, c.case_id, 1, AddNote("rappel demandé", "advisor:1"), "advisor:1", NOW)
        cohort.apply(conn, result, NOW)
    assert [j.case_id for j in result.joined] == [c.case_id]
    with engine.connect() as conn:
        row = conn.execute(select(CASE).where(CASE.c.id == c.case_id)).one()
        assert (row.version, row.audit_seq) == (3, 3)
        assert [r["action"] for r in audit.trail(conn, c.case_id)][-1] == "rattacher_contrats"
        assert audit.verify_all(conn)[2] == []
