"""The deployments `m3 worker` serves and those prefect.yaml declares run on the same schedules;
the cohort's is daily (it opens each month's cohort once within M3_COHORT_LEAD_DAYS)."""
from __future__ import annotations

from pathlib import Path

import yaml

from flows.worker import SCHEDULES, TIMEZONE

ROOT = Path(__file__).resolve().parents[2]


def test_worker__prefect_yaml_and_serve_declare_the_same_cron_schedules():
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text("utf-8"))
    declared = {d["name"]: (d["entrypoint"].split(":")[1], d["schedules"][0]["cron"], d["schedules"][0]["timezone"])
                for d in doc["deployments"] if "cron" in d["schedules"][0]}
    assert declared == {name: (flow, cron, TIMEZONE) for name, (flow, cron) in SCHEDULES.items()}


def test_worker__the_cohort_runs_every_day_at_six():
    assert SCHEDULES["m3-cohort"][1] == "0 6 * * *"
