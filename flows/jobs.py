"""The three jobs as plain functions of their parameters: (result as a dict, markdown summary).

Both paths call these: the Prefect flows (flows.prefect_flows) and the in-process run of the
command line when no Prefect server is configured (flows.runner). No Prefect import here.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from flows import cohort
from flows.clock import resolve


def _engine():
    from store.db import get_engine

    return get_engine()


def cohort_months(month: str | None, as_of) -> list[str]:
    """The cohorts a run opens: the one asked for, or those open on `as_of` (this month's, and
    next month's within M3_COHORT_LEAD_DAYS of its start)."""
    from config import get_settings
    from states.calendar import cohorts_open_on

    return [month] if month else cohorts_open_on(as_of, get_settings().cohort_lead_days)


def cohort_runs(month: str | None = None, today: str | None = None, dry_run: bool = False,
                engine=None) -> list[cohort.CohortResult]:
    """Run each cohort due (one transaction each, in month order: this month's takes its clients first)."""
    as_of, now = resolve(today, cohort.RUN_TIME)
    eng = engine or _engine()
    return [cohort.run_cohort(eng, m, as_of, now, dry_run=dry_run) for m in cohort_months(month, as_of)]


_COUNTS = ("cases", "contracts", "late", "joined_cases", "joined_contracts", "pieces_actions", "skipped_contracts")
_BREAKDOWNS = ("skipped_by_reason", "by_agency", "by_advisor", "by_family")


def cohort_result(results: list[cohort.CohortResult]) -> dict[str, Any]:
    """One answer for the run: totals, each month's summary, and every case, join and skipped
    contract (each with its cohort month)."""
    per_month = [r.as_json() for r in results]
    summaries = [p["summary"] for p in per_month]
    if len(summaries) == 1:
        total = dict(summaries[0])
    else:  # the counts added up, the breakdowns merged
        total = {"month": ",".join(s["month"] for s in summaries), "as_of": summaries[0]["as_of"],
                 "dry_run": summaries[0]["dry_run"], "opens_on": None}
        for key in _COUNTS:
            total[key] = sum(s[key] for s in summaries)
        for key in _BREAKDOWNS:
            merged: Counter = Counter()
            for s in summaries:
                merged.update(s[key])
            total[key] = dict(sorted(merged.items()))
    total["months"] = [s["month"] for s in summaries]
    out: dict[str, Any] = {"summary": total, "cohorts": summaries}
    for key in ("cases", "joined", "skipped"):
        out[key] = [dict(item, cohort_month=p["summary"]["month"]) for p in per_month for item in p[key]]
    return out


def cohort_job(month: str | None = None, today: str | None = None, dry_run: bool = False,
               engine=None) -> tuple[dict[str, Any], str]:
    results = cohort_runs(month, today, dry_run, engine)
    return cohort_result(results), "\n".join(cohort.summary_markdown(r) for r in results)


# Escalation and reminders are imported by their job: `m3 cohort` does not load them (nor the write
# path they import, ~0.03-0.05 s of its start).
def escalation_job(today: str | None = None, engine=None) -> tuple[dict[str, Any], str]:
    from flows import escalation

    as_of, now = resolve(today)
    result = escalation.run_escalation(engine or _engine(), as_of, now)
    return {"summary": result.summary(), "changes": result.changes}, escalation.summary_markdown(result)


def reminders_job(today: str | None = None, engine=None) -> tuple[dict[str, Any], str]:
    from flows import reminders

    as_of, now = resolve(today)
    result = reminders.run_reminders(engine or _engine(), as_of, now)
    return {"summary": result.summary()}, reminders.summary_markdown(result)


JOBS = {"cohort": cohort_job, "escalation": escalation_job, "reminders": reminders_job}


def delivery_job(today: str | None = None, limit: int | None = None, engine=None) -> tuple[dict[str, Any], str]:
    """Deliver the outbox: the same delivery as `m3 send` (flows.delivery)."""
    from flows import delivery

    summary, now = delivery.run_delivery(engine or _engine(), today, limit)
    return {"summary": delivery.summary_dict(summary, now)}, delivery.summary_markdown(summary, now)


JOBS["delivery"] = delivery_job
