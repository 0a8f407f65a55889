"""The three flows run as Prefect flows (prefect_test_harness, started once per session).

The harness costs ~16 s to start, so it is session-scoped with a generous time-out, and only
these few tests use it; the rules are tested as plain functions elsewhere.
"""
from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from states.commands import RecordAttempt
from states.records import AttemptOutcome, Channel
from store.snapshot import CASE
from store.tables import AuditRecord, Notification
from store.write_path import execute
from tests import factories as f

N = Notification.__table__
AUDIT = AuditRecord.__table__

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


def _notifications(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(N.c.kind, N.c.case_id, N.c.recipient, N.c.status).order_by(N.c.id))]


def _case(engine, case_id: int):
    with engine.connect() as conn:
        return conn.execute(select(CASE.c.state, CASE.c.version, CASE.c.escalation_step).where(CASE.c.id == case_id)).one()


def test_prefect_flows__cohort_escalation_reminders_run_as_flows(engine, flows_on):
    """Each flow, run by Prefect, does its work in the database: the cohort opens the cases, the
    escalation moves the case whose calls failed (and queues its email), the reminders queue the
    advisor's digest; a rerun does nothing twice; a public holiday queues nothing."""
    from prefect.artifacts import Artifact

    with engine.begin() as conn:
        adv = f.advisor(conn, email="julie.martin@agence.example")
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
    called, waiting = sorted(c["case_id"] for c in result["cases"])
    assert [_case(engine, c).state for c in (called, waiting)] == ["a_contacter"] * 2

    # Three calls without answer on two business days (Mon 27 and Tue 28 April, consumer hours).
    version = 1
    for at in (datetime(2026, 4, 27, 8, 30, tzinfo=timezone.utc), datetime(2026, 4, 28, 8, 30, tzinfo=timezone.utc),
               datetime(2026, 4, 28, 12, 30, tzinfo=timezone.utc)):
        version = execute(engine, called, version, RecordAttempt(Channel.PHONE, at, AttemptOutcome.NO_ANSWER),
                          "advisor:1", at).version
    assert _notifications(engine) == []
    esc = flows_on.escalation_flow(today="2026-04-29")
    assert esc["summary"]["business_day"] is True
    assert (esc["summary"]["candidates"], esc["summary"]["emails"], esc["summary"]["letters"]) == (1, 1, 0)
    assert [tuple(c) for c in esc["changes"]] == [(called, "envoyer_email")]
    # The case moved (one change through the write path, audited as the escalation) ...
    assert tuple(_case(engine, called)) == ("email_envoye", version + 1, 1)
    with engine.connect() as conn:
        last = conn.execute(select(AUDIT.c.actor, AUDIT.c.action).where(AUDIT.c.case_id == called)
                            .order_by(AUDIT.c.seq.desc()).limit(1)).one()
    assert tuple(last) == ("system:escalation", "envoyer_email")
    assert tuple(_case(engine, waiting)) == ("a_contacter", 1, 0)  # no call yet: it waits
    # ... and its email is queued, to be sent by the delivery.
    assert _notifications(engine) == [("client_email", called, "marie.dupont@example.fr", "pending")]
    assert "| emails envoyés | 1 |" in Artifact.get("m3-escalation").data
    again = flows_on.escalation_flow(today="2026-04-29")  # a rerun the same day moves nothing twice
    assert again["changes"] == [] and again["summary"]["emails"] == 0
    assert tuple(_case(engine, called)) == ("email_envoye", version + 1, 1) and len(_notifications(engine)) == 1

    rem = flows_on.reminders_flow(today="2026-04-29")
    assert rem["summary"]["overdue_cases"] == 2
    assert (rem["summary"]["advisor_digests"], rem["summary"]["manager_digests"]) == (1, 1)
    queued = _notifications(engine)
    assert queued[0][0] == "client_email" and sorted(queued[1:]) == [
        ("advisor_digest", None, "julie.martin@agence.example", "pending"),
        ("manager_digest", None, "direction.corniche@agence.example", "pending")]
    holiday = flows_on.reminders_flow(today="2026-05-01")  # 1 May: nothing queued
    assert holiday["summary"]["business_day"] is False and holiday["summary"]["advisor_digests"] == 0
    assert _notifications(engine) == queued


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
