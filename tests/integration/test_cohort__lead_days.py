"""The cohort of month M opens M3_COHORT_LEAD_DAYS (10) before M starts; the daily run opens each
month's cohort once within that lead, and a case whose window has not opened shows as such."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from flows import jobs
from store.snapshot import CASE
from tests import factories as f
from tests.integration.api_support import api  # noqa: F401  (fixture)


def _due_on_2_march(conn) -> str:
    """A contract due on 2 March 2026: its window opens on 23 February (the issue's example)."""
    adv = f.advisor(conn)
    cl = f.client(conn, advisor_id=adv)
    f.contract(conn, cl, effective=date(2025, 12, 2))
    return cl


def test_cohort__the_daily_run_opens_next_months_cohort_ten_days_before_it(engine):
    with engine.begin() as conn:
        cl = _due_on_2_march(conn)
    result, markdown = jobs.cohort_job(today="2026-02-18", engine=engine)
    assert result["summary"]["months"] == ["2026-02"] and result["cases"] == []
    result, markdown = jobs.cohort_job(today="2026-02-19", engine=engine)  # 10 days before 1 March
    assert result["summary"]["months"] == ["2026-02", "2026-03"]
    [case] = result["cases"]
    assert (case["client_id"], case["cohort_month"], case["due_date"], case["window_start"]) == (
        cl, "2026-03", "2026-03-02", "2026-02-23")
    assert case["call_from"] == "2026-02-23"  # the whole window can be used
    assert [c["opens_on"] for c in result["cohorts"]] == ["2026-01-22", "2026-02-19"]
    assert "Cohorte M+3 2026-03" in markdown and "s'ouvre le 19/02/2026" in markdown
    for day in ("2026-02-20", "2026-03-01", "2026-03-05"):  # daily reruns: idempotent
        again, _ = jobs.cohort_job(today=day, engine=engine)
        assert again["summary"]["cases"] == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CASE)).scalar_one() == 1


def test_cohort__lead_days_is_a_setting(engine, monkeypatch):
    import config

    with engine.begin() as conn:
        _due_on_2_march(conn)
    monkeypatch.setenv("M3_COHORT_LEAD_DAYS", "3")
    config.get_settings.cache_clear()
    try:
        assert jobs.cohort_job(today="2026-02-25", engine=engine, dry_run=True)[0]["summary"]["months"] == ["2026-02"]
        assert jobs.cohort_job(today="2026-02-26", engine=engine, dry_run=True)[0]["summary"]["cases"] == 1
    finally:
        config.get_settings.cache_clear()


def test_cli__cohort_without_month_decides_for_today(engine, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app
    from flows import runner

    monkeypatch.setattr(jobs, "_engine", lambda: engine)
    monkeypatch.setattr(runner, "prefect_api_url", lambda: None)
    with engine.begin() as conn:
        cl = _due_on_2_march(conn)
    res = CliRunner().invoke(app, ["cohort", "--today", "2026-02-19", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["summary"]["months"] == ["2026-02", "2026-03"] and [c["client_id"] for c in doc["cases"]] == [cl]
    assert "Cohorte M+3 2026-02" in res.stderr and "Cohorte M+3 2026-03" in res.stderr


def test_api__a_case_whose_window_has_not_opened_says_so(api):  # noqa: F811
    # The API's clock is 15 April 2026: May's cohort opened on 21 April... run it early, by hand.
    with api.engine.begin() as conn:
        cl = f.client(conn, advisor_id=api.advisors["corniche"])
        f.contract(conn, cl, effective=date(2026, 2, 10), product="Assurance chien et chat", premium_eur=1200)
        early = f.client(conn, advisor_id=api.advisors["corniche"])
        f.contract(conn, early, effective=date(2026, 1, 6))
    jobs.cohort_job(month="2026-05", today="2026-04-14", engine=api.engine)
    jobs.cohort_job(month="2026-04", today="2026-04-14", engine=api.engine)
    body = api.client.get("/api/cases?sort=due_date", headers=api.h("advisor")).json()
    by_client = {c["client_id"]: c for c in body["items"]}
    assert (by_client[cl]["window_open"], by_client[cl]["window_opens_on"]) == (False, "2026-05-03")
    assert (by_client[early]["window_open"], by_client[early]["window_opens_on"]) == (True, "2026-03-30")
    detail = api.client.get(f"/api/cases/{by_client[cl]['id']}", headers=api.h("advisor")).json()
    case = detail["case"]
    assert (case["window_open"], case["window_opens_on"]) == (False, "2026-05-03")
    # The priority's parts, with French labels; the product the documents rules do not know.
    pd = case["priority_detail"]
    assert pd["recorded"] and pd["total"] == case["priority"] == 10 + 0 + 2
    assert [(p["part"], p["points"]) for p in pd["parts"]] == [("family", 10), ("kind", 0), ("premium", 2)]
    assert pd["parts"][0]["label"].startswith("Famille de contrat") and pd["parts"][2]["label"].startswith("Montant")
    [k] = detail["contracts"]
    assert (k["product_known"], k["product_status"], k["risks"]) == (False, "produit non reconnu", [])
    assert [r["code"] for r in k["requirements"]] == ["dp", "devis", "cni"]
