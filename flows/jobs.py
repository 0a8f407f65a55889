"""The three jobs as plain functions of their parameters: (result as a dict, markdown summary).

Both paths call these: the Prefect flows (flows.prefect_flows) and the in-process run of the
command line when no Prefect server is configured (flows.runner). No Prefect import here.
"""
from __future__ import annotations

from typing import Any

from flows import cohort, escalation, reminders
from flows.clock import resolve


def _engine():
    from store.db import get_engine

    return get_engine()


def cohort_job(month: str | None = None, today: str | None = None, dry_run: bool = False,
               engine=None) -> tuple[dict[str, Any], str]:
    as_of, now = resolve(today, cohort.RUN_TIME)
    month = month or f"{as_of:%Y-%m}"
    result = cohort.run_cohort(engine or _engine(), month, as_of, now, dry_run=dry_run)
    return {"summary": result.summary(), "cases": [c.as_json() for c in result.cases]}, cohort.summary_markdown(result)


def escalation_job(today: str | None = None, engine=None) -> tuple[dict[str, Any], str]:
    as_of, now = resolve(today)
    result = escalation.run_escalation(engine or _engine(), as_of, now)
    return {"summary": result.summary(), "changes": result.changes}, escalation.summary_markdown(result)


def reminders_job(today: str | None = None, engine=None) -> tuple[dict[str, Any], str]:
    as_of, now = resolve(today)
    result = reminders.run_reminders(engine or _engine(), as_of, now)
    return {"summary": result.summary()}, reminders.summary_markdown(result)


JOBS = {"cohort": cohort_job, "escalation": escalation_job, "reminders": reminders_job}
