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
