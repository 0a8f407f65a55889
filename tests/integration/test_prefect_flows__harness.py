"""The three flows run as Prefect flows (prefect_test_harness, started once per session).

The harness costs ~16 s to start, so it is session-scoped with a generous time-out, and only
these few tests use it; the rules are tested as plain functions elsewhere.
"""
from __future__ import annotations

import os
import tempfile
from datetime import date

import pytest

from tests import factories as f

# Before prefect is imported: no analytics, and a Prefect home of our own.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="m3-prefect-home-"))
os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def flows_on(engine, monkeypatch, prefect_harness):
    from flows import jobs

    monkeypatch.setattr(jobs, "_engine", lambda: engine)
    from flows import prefect_flows

    return prefect_flows


def test_prefect_flows__cohort_escalation_reminders_run_as_flows(engine, flows_on):
    from prefect.artifacts import Artifact

    with engine.begin() as conn:
        adv = f.advisor(conn)
        for day in (5, 20):
            cl = f.client(conn, advisor_id=adv)
            f.contract(conn, cl, effective=date(2026, 1, day))
    state = flows_on.cohort_flow(month="2026-04", today="2026-04-01", return_state=True)
    assert state.is_completed()
    result = state.result()
    assert result["summary"]["cases"] == 2 and {c["due_date"] for c in result["cases"]} == {"2026-04-05", "2026-04-20"}
    artifact = Artifact.get("m3-cohort-2026-04")
    assert artifact is not None and "Cohorte M+3 2026-04" in artifact.data
    assert flows_on.cohort_flow(month="2026-04", today="2026-04-01")["summary"]["cases"] == 0  # idempotent
    esc = flows_on.escalation_flow(today="2026-04-29")
    assert esc["summary"]["business_day"] is True
    rem = flows_on.reminders_flow(today="2026-04-29")
    assert rem["summary"]["overdue_cases"] == 2 and rem["summary"]["advisor_digests"] == 1
    assert flows_on.reminders_flow(today="2026-05-01")["summary"]["business_day"] is False  # 1 May


def _letter_waiting(engine, day: str):
    from flows.clock import resolve
    from notifications.outbox import enqueue

    _, at = resolve(day)
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
        enqueue(conn, kind="client_letter", channel="letter", dedupe_key=f"letter:{case_id}", now=at, case_id=case_id)
    return case_id


def test_prefect_flows__delivery_runs_as_a_flow_like_m3_send(engine, flows_on, tmp_path, monkeypatch):
    import config

    monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))  # the letters' print folder
    config.get_settings.cache_clear()
    try:
        case_id = _letter_waiting(engine, "2026-04-29")
        state = flows_on.delivery_flow(today="2026-04-29", return_state=True)
        assert state.is_completed()
        summary = state.result()["summary"]
        assert (summary["sent"], summary["letters"], summary["stopped"]) == (1, 1, None)
        assert list((tmp_path / "letters").glob(f"*/letter-*-case-{case_id}.pdf"))
        assert flows_on.delivery_flow(today="2026-04-29")["summary"]["sent"] == 0  # nothing twice
    finally:
        config.get_settings.cache_clear()


def test_prefect_flows__delivery_deployment_is_served_and_declared_every_five_minutes():
    from datetime import timedelta
    from pathlib import Path

    import yaml

    from config import Settings
    from flows import worker

    minutes = Settings().delivery_every_minutes
    assert minutes == 5
    served = {d.name: d for d in worker.deployments()}
    assert set(served) == {"m3-cohort", "m3-escalation", "m3-reminders", "m3-delivery"}
    [schedule] = served["m3-delivery"].schedules
    assert schedule.schedule.interval == timedelta(minutes=minutes)
    declared = yaml.safe_load((Path(__file__).resolve().parents[2] / "prefect.yaml").read_text("utf-8"))
    by_name = {d["name"]: d for d in declared["deployments"]}
    assert set(by_name) == set(served)  # prefect.yaml declares what `m3 worker` serves
    delivery = by_name["m3-delivery"]
    assert delivery["entrypoint"] == "flows/prefect_flows.py:delivery_flow"
    assert delivery["schedules"] == [{"interval": minutes * 60, "timezone": "Europe/Paris", "active": True}]
