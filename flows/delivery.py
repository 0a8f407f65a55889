"""Delivering the outbox, as one job: what `m3 send` runs and the `m3-delivery` deployment runs on
its schedule (every M3_DELIVERY_EVERY_MINUTES, 5 by default), so messages queued by the flows
(the escalation's emails and letters, the digests) leave without anyone, and the retries after
an SMTP outage happen on their own.

The delivery itself is notifications.delivery.deliver_pending: claims, retries with backoff, a
stable Message-ID. A message that cannot be sent fails alone and the run goes on, so neither
`m3 send` nor the scheduled run ever stops on one row. Two runs at once (a scheduled run and a person's `m3 send`, or several
workers) never send the same row twice: each row is claimed before it is sent.
"""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Engine

from flows.clock import resolve
from notifications.delivery import DeliverySummary, deliver_pending

END_OF_DAY = time(23, 59, 59)


def delivery_now(today: str | None) -> datetime:
    """A replayed day delivers everything due by its end; no day: now."""
    return resolve(today, at=END_OF_DAY)[1] if today else resolve(None)[1]


def run_delivery(engine: Engine, today: str | None = None, limit: int | None = None,
                 settings=None) -> tuple[DeliverySummary, datetime]:
    """(what was delivered, the time it ran as)."""
    if settings is None:
        from config import get_settings

        settings = get_settings()
    now = delivery_now(today)
    return deliver_pending(engine, now, settings=settings, limit=limit), now


def summary_dict(summary: DeliverySummary, now: datetime) -> dict:
    from states.calendar import PARIS

    return {"as_of": now.astimezone(PARIS).date().isoformat(), "at": now.isoformat(), "sent": summary.sent,
            "letters": summary.letters, "retried": summary.retried, "failed": summary.failed,
            "cancelled": summary.cancelled, "stopped": summary.stopped,
            "letter_files": [str(p) for p in summary.letter_files]}


def summary_markdown(summary: DeliverySummary, now: datetime) -> str:
    from states.calendar import PARIS

    lines = [f"# Envoi des messages du {now.astimezone(PARIS):%d/%m/%Y à %H:%M}", "",
             "| messages | nombre |", "|---|---:|", f"| envoyés (dont courriers) | {summary.sent} ({summary.letters}) |",
             f"| à réessayer | {summary.retried} |", f"| en échec | {summary.failed} |",
             f"| annulés (opposition, sans adresse) | {summary.cancelled} |"]
    if summary.stopped:
        lines += ["", f"Envoi interrompu : {summary.stopped} (nouvel essai au prochain passage)."]
    if summary.failed:  # each failed alone: the others left (notifications/delivery.py)
        lines += ["", "Messages en échec : leur motif est dans `m3 outbox --status failed` ; la cause corrigée "
                      "(la fiche du client pour une adresse), `m3 outbox retry ID` les remet en file."]
    return "\n".join(lines) + "\n"
