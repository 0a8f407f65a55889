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
    [case] = json.loads(res.stdout)
    assert {k_: case[k_] for k_ in ("client_id", "contract_ids", "late", "advisor", "priority", "due_date")} == {
        "client_id": cl, "contract_ids": [k], "late": False, "advisor": "Claire Martin", "priority": 11,
        "due_date": "2026-04-15"}
    assert case["case_id"] is None and "ran in-process (no Prefect server configured)" in res.stderr
    res = cli.invoke(app, ["cohort", "--month", "2026-04", "--today", "2026-04-01"])
    assert res.exit_code == 0 and "1 dossiers créés" in res.stdout
    for cmd in ("escalate", "remind"):
        res = cli.invoke(app, [cmd, "--today", "2026-04-04"])  # a Saturday
        assert res.exit_code == 0 and "Jour non ouvré" in res.stdout
    assert cli.invoke(app, ["cohort", "--month", "2026-13"]).exit_code != 0
