"""`m3 cohort / escalate / remind` in-process (no Prefect server configured): JSON on stdout."""
from __future__ import annotations

import json
from datetime import date

from typer.testing import CliRunner

from cli.main import app
from tests import factories as f


def test_cli__cohort_json_dry_run_then_real_run(engine, monkeypatch):
    from flows import jobs, runner

    monkeypatch.setattr(jobs, "_engine", lambda: engine)
    monkeypatch.setattr(runner, "prefect_api_url", lambda: None)
    with engine.begin() as conn:
        adv = f.advisor(conn, name="Claire Martin")
        cl = f.client(conn, advisor_id=adv)
        k = f.contract(conn, cl, effective=date(2026, 1, 15))
    cli = CliRunner()
    res = cli.invoke(app, ["cohort", "--month", "2026-04", "--today", "2026-04-01", "--dry-run", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["summary"]["cases"] == 1 and doc["summary"]["months"] == ["2026-04"]
    assert (doc["joined"], doc["skipped"]) == ([], [])
    [case] = doc["cases"]
    assert {k_: case[k_] for k_ in ("client_id", "contract_ids", "late", "advisor", "priority", "due_date")} == {
        "client_id": cl, "contract_ids": [k], "late": False, "advisor": "Claire Martin", "priority": 11,
        "due_date": "2026-04-15"}
    assert case["priority_parts"] == {"family": 10, "kind": 0, "premium": 1} and case["cohort_month"] == "2026-04"
    assert case["case_id"] is None and "exécuté dans ce processus (aucun serveur Prefect configuré)" in res.stderr
    res = cli.invoke(app, ["cohort", "--month", "2026-04", "--today", "2026-04-01"])
    assert res.exit_code == 0 and "1 dossiers créés" in res.stdout
    for cmd in ("escalate", "remind"):
        res = cli.invoke(app, [cmd, "--today", "2026-04-04"])  # a Saturday
        assert res.exit_code == 0 and "Jour non ouvré" in res.stdout
    assert cli.invoke(app, ["cohort", "--month", "2026-13"]).exit_code != 0


def test_cli__send_and_the_delivery_job_are_the_same_delivery(engine, monkeypatch, tmp_path):
    import config
    from flows import jobs
    from notifications.outbox import enqueue
    from flows.clock import resolve

    monkeypatch.setattr(jobs, "_engine", lambda: engine)
    monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))
    config.get_settings.cache_clear()
    import store.db

    monkeypatch.setattr(store.db, "get_engine", lambda migrate=True: engine)
    monkeypatch.setattr("cli.cmd_outbox.get_engine", lambda migrate=True: engine)
    try:
        _, at = resolve("2026-04-29")
        with engine.begin() as conn:
            ids = [f.ready_case(conn)[0] for _ in range(2)]
            for case_id in ids:
                enqueue(conn, kind="client_letter", channel="letter", dedupe_key=f"l{case_id}", now=at, case_id=case_id)
        res = CliRunner().invoke(app, ["send", "--today", "2026-04-29", "--limit", "1"])
        assert res.exit_code == 0, res.output
        assert "envoyés 1 (dont courriers 1)" in res.stdout
        result, markdown = jobs.JOBS["delivery"](today="2026-04-29")  # what m3-delivery runs
        assert result["summary"]["sent"] == 1 and "Envoi des messages du 29/04/2026" in markdown
        assert len(list((tmp_path / "letters").glob("*/*.pdf"))) == 2
    finally:
        config.get_settings.cache_clear()
