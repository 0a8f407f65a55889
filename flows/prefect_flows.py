"""The three flows as Prefect flows: thin wrappers over flows.jobs.

No task per client or per case (a Prefect task costs ~8 ms on the client and a server on
SQLite records ~22 task runs per second): each flow is one set-based call, and the database,
not Prefect, guarantees idempotency. Each run publishes a markdown artifact for a person.
Parameters are strings so that a deployment's schedule needs none: no `today` means the day
the run starts (Europe/Paris); no `month` means the cohorts open that day (this month's, and
next month's within the lead).
"""
from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows import jobs


@flow(name="m3-cohort")
def cohort_flow(month: str | None = None, today: str | None = None, dry_run: bool = False) -> dict:
    """Open the M+3 cases due: without `month`, this month's cohort and, within M3_COHORT_LEAD_DAYS
    of its start, next month's (the deployment runs daily; a rerun opens nothing twice)."""
    from flows.cohort import summary_markdown

    results = jobs.cohort_runs(month, today, dry_run)
    for r in results:
        create_markdown_artifact(summary_markdown(r), key=f"m3-cohort-{r.month}", description=f"Cohorte M+3 {r.month}")
        get_run_logger().info("cohort %s: %s cases, %s late, %s joined, %s skipped%s", r.month, len(r.cases), r.late,
                              len(r.joined), len(r.skipped), " (dry run)" if dry_run else "")
    return dict(jobs.cohort_result(results), markdown="\n".join(summary_markdown(r) for r in results))


def _daily(name: str, label: str, job, today: str | None) -> dict:
    """A daily job's run: its artifact for a person, one log line, the result."""
    result, markdown = job(today)
    create_markdown_artifact(markdown, key=f"m3-{name}", description=f"{label} du {result['summary']['as_of']}")
    get_run_logger().info("%s: %s", name, result["summary"])
    return dict(result, markdown=markdown)


@flow(name="m3-escalation")
def escalation_flow(today: str | None = None) -> dict:
    """Failed calls -> email -> letter -> injoignable (business days only)."""
    return _daily("escalation", "Escalade", jobs.escalation_job, today)


@flow(name="m3-reminders")
def reminders_flow(today: str | None = None) -> dict:
    """Overdue digests, action reminders, document requests (business days only)."""
    return _daily("reminders", "Relances", jobs.reminders_job, today)


FLOWS = {"cohort": cohort_flow, "escalation": escalation_flow, "reminders": reminders_flow}


@flow(name="m3-delivery")
def delivery_flow(today: str | None = None) -> dict:
    """Deliver the outbox (emails over SMTP, letters to the print folder): what `m3 send` does,
    every few minutes, so retries after an SMTP outage need nobody. Every day, holidays included."""
    return _daily("delivery", "Envoi des messages", jobs.delivery_job, today)


FLOWS["delivery"] = delivery_flow
