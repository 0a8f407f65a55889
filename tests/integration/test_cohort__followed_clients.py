"""Which clients a cohort takes: a followed client's new contract joins its open case or is
reported as skipped with the case that covers it. Nothing is dropped silently."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select, update

from flows import cohort
from flows.clock import resolve
from store import audit
from store.snapshot import ACTION, CASE, CASE_CONTRACT
from tests import factories as f

AS_OF, NOW = resolve("2026-04-01", cohort.RUN_TIME)


def _followed_client(conn, state="a_contacter", **case_values):
    """A client whose March case (contract effective in December) is in `state`; a new contract
    effective in January is due in April."""
    adv = f.advisor(conn)
    cl = f.client(conn, advisor_id=adv)
    k_old = f.contract(conn, cl, effective=date(2025, 12, 10))
    case_id = f.case(conn, cl, [k_old], adv, effective=date(2025, 12, 10),
                     now=datetime(2026, 2, 21, 5, tzinfo=timezone.utc))
    if state != "a_contacter" or case_values:
        conn.execute(update(CASE).where(CASE.c.id == case_id).values(state=state, **case_values))
    k_new = f.contract(conn, cl, family="Épargne", product="Assurance vie", effective=date(2026, 1, 20))
    return adv, cl, case_id, k_new


def _reported(result) -> set[str]:
    """Every contract the run accounts for: in a new case, joined to an open case, or skipped."""
    return ({k for c in result.cases for k in c.contract_ids} | {k for j in result.joined for k in j.contract_ids}
            | {s.contract_id for s in result.skipped})


def test_cohort__a_second_contract_of_a_followed_client_is_in_a_cohort_or_a_report(engine):
    with engine.begin() as conn:
        _, _, case_id, k_new = _followed_client(conn)
    result = cohort.run_cohort(engine, "2026-04", AS_OF, NOW)
    assert k_new in _reported(result)
    with engine.connect() as conn:
        assert conn.execute(select(CASE_CONTRACT.c.case_id).where(CASE_CONTRACT.c.contract_id == k_new)
                            ).scalar_one() == case_id


def test_cohort__new_contract_joins_the_open_case_audited_by_the_cohort(engine):
    with engine.begin() as conn:
        _, cl, case_id, k_new = _followed_client(conn)
    result = cohort.run_cohort(engine, "2026-04", AS_OF, NOW)
    assert result.cases == []
    [j] = result.joined
    assert (j.case_id, j.client_id, j.contract_ids, j.pieces_actions) == (case_id, cl, (k_new,), 0)
    with engine.connect() as conn:
        row = conn.execute(select(CASE).where(CASE.c.id == case_id)).one()
        assert (row.version, row.audit_seq) == (2, 2)
        [rec] = [r for r in audit.trail(conn, case_id) if r["seq"] == 2]
        assert (rec["actor"], rec["action"]) == ("system:cohort", "rattacher_contrats")
        assert rec["changes"]["contracts"][1][-1] == k_new
        assert audit.verify_all(conn)[2] == []
        assert conn.execute(select(ACTION)).all() == []
    assert cohort.run_cohort(engine, "2026-04", AS_OF, NOW).joined == []  # idempotent


def test_cohort__after_contrats_finalises_the_new_contract_is_a_pieces_action_for_the_advisor(engine):
    with engine.begin() as conn:
        adv, _, case_id, k_new = _followed_client(conn, state="bilan_fait")
    result = cohort.run_cohort(engine, "2026-04", AS_OF, NOW)
    [j] = result.joined
    assert (j.case_id, j.counts_toward, j.pieces_actions) == (case_id, "pieces", 1)
    assert result.summary()["pieces_actions"] == 1
    with engine.connect() as conn:
        [action] = conn.execute(select(ACTION).where(ACTION.c.case_id == case_id)).all()
        assert (action.kind, action.owner_id, action.status) == ("pieces", adv, "open")
        assert action.due_date == date(2026, 4, 8)  # as of 1 April + M3_PIECES_DUE_DAYS (7)
        assert action.label.startswith(f"Pièces à obtenir : Assurance vie ({k_new}) : ")
        assert "Justificatif d'origine des fonds" in action.label
        row = conn.execute(select(CASE).where(CASE.c.id == case_id)).one()
        assert (row.state, row.version) == ("bilan_fait", 2)
        rec = audit.trail(conn, case_id)[-1]
        assert rec["action"] == "rattacher_contrats" and rec["changes"]["action"][1]["kind"] == "pieces"


def test_cohort__a_case_closed_between_plan_and_write_leaves_its_contracts_listed(engine):
    with engine.begin() as conn:
        _, cl, case_id, k_new = _followed_client(conn)
    with engine.begin() as conn:
        result = cohort.plan(conn, "2026-04", AS_OF)
        conn.execute(update(CASE).where(CASE.c.id == case_id).values(state="cloture", closing_reason="refus",
                                                                    closed_at=NOW))
        cohort.apply(conn, result, NOW)
    assert result.joined == []
    [s] = result.skipped
    assert (s.contract_id, s.client_id, s.case_id, s.reason) == (k_new, cl, case_id, "case_closed_during_run")
    with engine.connect() as conn:
        assert conn.execute(select(CASE_CONTRACT).where(CASE_CONTRACT.c.contract_id == k_new)).first() is None


def test_cohort__every_eligible_contract_is_in_a_case_a_join_or_the_skipped_list(engine):
    with engine.begin() as conn:
        _followed_client(conn)  # open: joins
        _, _, closed, _ = _followed_client(conn)
        conn.execute(update(CASE).where(CASE.c.id == closed).values(  # reached in February: skipped
            state="cloture", closing_reason="complet", closed_at=datetime(2026, 2, 27, tzinfo=timezone.utc)))
        adv = f.advisor(conn)
        fresh = f.client(conn, advisor_id=adv)
        f.contract(conn, fresh, effective=date(2026, 1, 3))
        f.contract(conn, fresh, family="Santé", product="Mutuelle", effective=date(2026, 1, 30))
    result = cohort.run_cohort(engine, "2026-04", AS_OF, NOW, dry_run=True)
    assert len(_reported(result)) == result.contracts == 4
    assert (len(result.cases), len(result.joined), len(result.skipped)) == (1, 1, 1)
    [s] = result.skipped
    assert s.case_id == closed and s.reason == "recently_reached" and s.callable_from == date(2027, 2, 27)
    md = cohort.summary_markdown(result)
    assert s.contract_id in md and f"| {closed} |" in md and "Contrats rattachés" in md


def test_cohort__a_new_contract_of_a_client_with_an_open_case_never_opens_a_second_case(engine):
    with engine.begin() as conn:
        _, cl, case_id, _ = _followed_client(conn, state="joint_rdv")
    cohort.run_cohort(engine, "2026-04", AS_OF, NOW)
    with engine.connect() as conn:
        assert conn.execute(select(CASE.c.id).where(CASE.c.client_id == cl)).scalars().all() == [case_id]
