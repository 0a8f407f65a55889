"""Deactivating an advisor with open cases: refused unless told where they go (`--reassign-to`,
`--spread`), each case reassigned through the write path and audited. Both databases."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from store import advisor_admin as admin
from store.snapshot import CASE
from store.tables import Advisor, AuditRecord
from tests import factories as f
from tests.integration.db_helpers import case_dict

AUDIT = AuditRecord.__table__


def _book(engine, open_cases: int = 3):
    """Léa (Corniche) with `open_cases` open cases and one closed; Paul and Zoé active in Corniche
    (Paul with one case already), Max inactive in Corniche, Luc in Rouvière."""
    with engine.begin() as conn:
        lea = f.advisor(conn, name="Léa Garcia")
        paul = f.advisor(conn, name="Paul Martin")
        zoe = f.advisor(conn, name="Zoé Roux")
        f.advisor(conn, name="Max Inactif", active=False)
        luc = f.advisor(conn, name="Luc Blanc", agency_id="rouviere")
        cases = []
        for _ in range(open_cases):
            cl = f.client(conn, advisor_id=lea)
            cases.append(f.case(conn, cl, [f.contract(conn, cl)], lea))
        cl = f.client(conn)
        f.case(conn, cl, [f.contract(conn, cl)], paul)
        cl = f.client(conn)
        closed = f.case(conn, cl, [f.contract(conn, cl)], lea)
        conn.execute(CASE.update().where(CASE.c.id == closed).values(state="cloture"))
    return dict(lea=lea, paul=paul, zoe=zoe, luc=luc, cases=cases, closed=closed)


def _active(engine, advisor_id):
    with engine.connect() as conn:
        return conn.execute(select(Advisor.active).where(Advisor.id == advisor_id)).scalar_one()


def _last_audit(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(AUDIT).where(AUDIT.c.case_id == case_id).order_by(AUDIT.c.seq.desc())).first()


def test_advisor_admin__open_cases_refuse_a_plain_deactivation(engine):
    b = _book(engine)
    with pytest.raises(admin.OpenCases) as refused, engine.begin() as conn:
        admin.deactivate(conn, "Léa Garcia")
    assert refused.value.count == 3 and "3 dossiers en cours" in str(refused.value)
    assert _active(engine, b["lea"])


def test_advisor_admin__reassign_to_hands_every_open_case_over_audited_per_case(engine, now):
    b = _book(engine)
    with engine.begin() as conn:
        done = admin.deactivate(conn, "Léa Garcia", reassign_to="Paul Martin", now=now)
    assert not done.advisor.active and done.reassigned == [(c, b["paul"]) for c in b["cases"]]
    for case_id in b["cases"]:
        case = case_dict(engine, case_id)
        assert (case["assigned_advisor_id"], case["version"]) == (b["paul"], 2)
        record = _last_audit(engine, case_id)
        assert (record.actor, record.action) == ("system:admin", "reassign")
        assert record.reason == "désactivation de Léa Garcia"
        assert record.changes == {"case.assigned_advisor_id": [b["lea"], b["paul"]]}
    assert case_dict(engine, b["closed"])["assigned_advisor_id"] == b["lea"]  # a closed case keeps its history


def test_advisor_admin__spread_goes_to_the_least_loaded_active_advisors_of_the_agency(engine, now):
    b = _book(engine, open_cases=5)
    with engine.begin() as conn:
        done = admin.deactivate(conn, b["lea"], spread=True, actor="user:manager", now=now)
    # Paul starts with one case, Zoé with none; Max is inactive and Luc is in Rouvière.
    assert [a for _, a in done.reassigned] == [b["zoe"], b["paul"], b["zoe"], b["paul"], b["zoe"]]
    assert _last_audit(engine, b["cases"][0]).actor == "user:manager"


@pytest.mark.parametrize("target, message", [("Luc Blanc", "agence rouviere"), ("Max Inactif", "n'est pas actif"),
                                              ("Léa Garcia", "ses propres dossiers")])
def test_advisor_admin__unfit_successor_refuses_and_changes_nothing(engine, now, target, message):
    b = _book(engine)
    with pytest.raises(admin.AdvisorError) as refused, engine.begin() as conn:
        admin.deactivate(conn, "Léa Garcia", reassign_to=target, now=now)
    assert message in str(refused.value)
    assert _active(engine, b["lea"]) and case_dict(engine, b["cases"][0])["version"] == 1


def test_advisor_admin__spread_with_nobody_left_in_the_agency_refuses(engine, now):
    with engine.begin() as conn:
        alone = f.advisor(conn, agency_id="rouviere")
        cl = f.client(conn, agency_id="rouviere")
        case_id = f.case(conn, cl, [f.contract(conn, cl)], alone, agency_id="rouviere")
    with pytest.raises(admin.AdvisorError) as refused, engine.begin() as conn:
        admin.deactivate(conn, str(alone), spread=True, now=now)
    assert "aucun autre conseiller actif dans l'agence rouviere" in str(refused.value)
    assert _active(engine, alone) and case_dict(engine, case_id)["version"] == 1


def test_cli_advisors__deactivate_asks_where_the_open_cases_go(m3, cli_db, now):
    b = _book(cli_db, open_cases=2)
    refused = m3("advisors", "deactivate", "Léa Garcia")
    assert refused.exit_code == 1
    assert "Léa Garcia a 2 dossiers en cours" in refused.output
    assert "--reassign-to AUTRE" in refused.output and "--spread" in refused.output
    both = m3("advisors", "deactivate", "Léa Garcia", "--reassign-to", "Paul Martin", "--spread")
    assert both.exit_code == 1 and _active(cli_db, b["lea"])

    done = m3("advisors", "deactivate", "Léa Garcia", "--reassign-to", "Zoé Roux", "--today", "2026-04-20")
    assert done.exit_code == 0, done.output
    assert "désactivé : Léa Garcia" in done.output
    assert f"2 dossier(s) confié(s) à Zoé Roux : {b['cases'][0]}, {b['cases'][1]}" in done.output
    assert _last_audit(cli_db, b["cases"][0]).actor == "system:admin"


def test_cli_advisors__spread_reports_each_successor(m3, cli_db):
    b = _book(cli_db, open_cases=2)
    done = m3("advisors", "deactivate", str(b["lea"]), "--spread")
    assert done.exit_code == 0, done.output
    assert "1 dossier(s) confié(s) à Zoé Roux" in done.output and "1 dossier(s) confié(s) à Paul Martin" in done.output
