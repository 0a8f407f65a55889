"""*En retard* has one definition (states.lateness), and every reader uses it: its SQL form, the
advisor's digest, the manager's digest, the statistics and the case list agree case by case;
*rattrapé* is a separate flag. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from flows.clock import resolve
from flows.reminders import run_reminders
from states.lateness import is_late
from states.lifecycle import State
from store.lateness import late_clause
from store.snapshot import CASE
from store.tables import Notification
from tests import factories as f
from tests.integration.api_support import api  # noqa: F401  (fixture)

TODAY = date(2026, 4, 23)  # a Thursday
NOTIF = Notification.__table__


def _spread(engine) -> dict[int, tuple[str, date]]:
    """Cases in every state, with windows ending two days before to two days after TODAY."""
    out = {}
    with engine.begin() as conn:
        adv = f.advisor(conn)
        for state in State:
            for offset in (-2, -1, 0, 1):
                cl = f.client(conn, advisor_id=adv)
                case_id = f.case(conn, cl, [f.contract(conn, cl)], adv)
                end = TODAY + timedelta(days=offset)
                caught_up = offset == -2
                conn.execute(update(CASE).where(CASE.c.id == case_id).values(
                    state=state.value, window_end=end, late=caught_up,
                    closing_reason="complet" if state is State.CLOTURE else None))
                out[case_id] = (state.value, end)
    return out


def test_lateness__the_sql_form_agrees_with_the_rule_at_every_boundary(engine):
    cases = _spread(engine)
    with engine.connect() as conn:
        late_sql = set(conn.execute(select(CASE.c.id).where(late_clause(TODAY))).scalars())
    expected = {cid for cid, (state, end) in cases.items() if is_late(state, end, TODAY)}
    assert late_sql == expected
    # open and not reached, past the window's end (strictly): à contacter, email envoyé, courrier envoyé
    assert len(expected) == 3 * 2
    assert all(cases[c][0] in ("a_contacter", "email_envoye", "courrier_envoye") for c in expected)


def test_lateness__digests_stats_and_the_case_list_count_the_same_cases(api, now):  # noqa: F811
    cases = _spread(api.engine)
    expected = {cid for cid, (state, end) in cases.items() if is_late(state, end, TODAY)}
    run_reminders(api.engine, *resolve(TODAY))
    with api.engine.connect() as conn:
        advisor_digest = conn.execute(select(NOTIF).where(NOTIF.c.kind == "advisor_digest")).one()
        manager_digest = conn.execute(select(NOTIF).where(NOTIF.c.kind == "manager_digest")).one()
    lines = advisor_digest.payload["cases"]
    open_ids = {cid for cid, (state, _) in cases.items() if state != "cloture"}
    assert {c["case_id"] for c in lines} == open_ids  # "Vos dossiers en cours": every open case
    assert {c["case_id"] for c in lines if c["late"]} == expected
    assert [c["late"] for c in lines] == sorted((c["late"] for c in lines), reverse=True)  # late ones first
    assert {c["case_id"] for c in manager_digest.payload["cases"]} == expected
    assert sum(a["overdue"] for a in manager_digest.payload["by_advisor"]) == len(expected)
    # rattrapé is its own flag, never mistaken for en retard
    assert {c["case_id"] for c in lines if c["caught_up"]} == {cid for cid in open_ids if cases[cid][1] == TODAY - timedelta(days=2)}

    from api.queries.cases import CaseFilter, list_cases
    from api.queries.stats import StatsFilter, compute

    with api.engine.connect() as conn:
        total, items = list_cases(conn, CaseFilter(late=True), ["id"], 1, 200, TODAY)
        stats = compute(conn, StatsFilter(), TODAY)
    assert total == len(expected) and {i["id"] for i in items} == expected
    assert all(i["late"] and i["overdue"] for i in items)
    assert stats["totals"]["late"] == len(expected)
    assert stats["totals"]["caught_up"] == len(State)  # one case per state was opened by catch-up

    # Through HTTP, on a day the app's clock says
    from api.app import create_app
    from fastapi.testclient import TestClient

    from flows.clock import resolve as at

    client = TestClient(create_app(api.engine, clock=lambda: at(TODAY)[1]))
    body = client.get("/api/cases?late=true&per_page=200", headers=api.h("admin")).json()
    assert {i["id"] for i in body["items"]} == expected
    caught = client.get("/api/cases?caught_up=true&per_page=200", headers=api.h("admin")).json()
    assert {i["id"] for i in caught["items"]} == {cid for cid, (_, end) in cases.items() if end == TODAY - timedelta(days=2)}
    assert client.get("/api/stats", headers=api.h("admin")).json()["totals"]["late"] == len(expected)
    client.close()
