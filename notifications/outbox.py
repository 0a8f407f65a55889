"""The transactional outbox: enqueue a message in the same transaction as the change causing it.

Kinds and what they carry (`payload`); case-based kinds are rendered from the case at send time:
- client_email       case_id; the "mise à jour du dossier" email after failed calls
- client_letter      case_id; the postal letter (PDF) after the email
- documents_request  case_id; payload {"missing": [{"contract_id", "product", "label"}]}
- advisor_digest     payload {"advisor_name", "as_of", "cases": [case summary]}
- manager_digest     payload {"agency_name", "as_of", "week", "by_advisor": [{"advisor_name", "overdue"}],
                              "cases": [case summary]}
- action_reminder    payload {"owner_name", "as_of", "actions": [{"case_id", "client_name", "kind", "label",
                              "due_date"}]}
case summary = {"case_id", "client_name", "due_date", "window_end", "state", "priority", "late"}

`dedupe_key` is unique: enqueueing the same key twice (a re-run flow) adds nothing.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.tables import Notification

NOTIFICATION = Notification.__table__
KINDS = ("client_email", "client_letter", "documents_request", "advisor_digest", "manager_digest",
         "action_reminder")
# Queued by the write path (states/appointments.py): case_id; payload {"appointment_id", "at", "channel",
# "advisor_id", "update", "previous_at"}. Service messages: sent even to a client opposed to email.
KINDS = KINDS + ("appointment_confirmation", "appointment_cancellation")
# Queued by the write path (states/bilan.py SendBilan): case_id; payload {"bilan_seq", "to"}; the
# frozen record's PDF attached. A service message.
KINDS = KINDS + ("bilan_email",)


def enqueue(conn: Connection, *, kind: str, channel: str, dedupe_key: str, now: datetime,
            recipient: str | None = None, case_id: int | None = None, payload: dict[str, Any] | None = None) -> bool:
    """Add a pending notification; False when one with the same dedupe_key already exists."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(NOTIFICATION)
    stmt = ins.values(
        dedupe_key=dedupe_key, kind=kind, channel=channel, case_id=case_id, recipient=recipient,
        payload=payload or {}, status="pending", attempts=0, created_at=now, next_attempt_at=now,
    ).on_conflict_do_nothing(index_elements=[NOTIFICATION.c.dedupe_key]).returning(NOTIFICATION.c.id)
    # RETURNING, not rowcount: on PostgreSQL (psycopg 3) an INSERT ... ON CONFLICT reports rowcount -1.
    return conn.execute(stmt).first() is not None


# ---------------------------------------------------------------- reading the outbox (m3 outbox)
# Statuses: pending (due at next_attempt_at), sending (claimed by a sender, until its lease
# expires), sent, failed (given up; `requeue_failed` puts it back), cancelled (not to be sent:
# the client opposed the channel, or there is no address; the reason is in last_error).

def counts(conn: Connection) -> dict[tuple[str, str], int]:
    """{(status, kind): number of rows}."""
    from sqlalchemy import func, select

    rows = conn.execute(select(NOTIFICATION.c.status, NOTIFICATION.c.kind, func.count())
                        .group_by(NOTIFICATION.c.status, NOTIFICATION.c.kind)).all()
    return {(s, k): n for s, k, n in rows}


def latest(conn: Connection, status: str | None = None, limit: int = 20) -> list[Any]:
    """The newest rows, optionally of one status."""
    from sqlalchemy import select

    q = select(NOTIFICATION).order_by(NOTIFICATION.c.id.desc()).limit(limit)
    if status:
        q = q.where(NOTIFICATION.c.status == status)
    return list(conn.execute(q).all())


def requeue_failed(conn: Connection, now: datetime) -> int:
    """Put failed rows back in the queue with a fresh attempt count (after fixing the cause)."""
    from sqlalchemy import update

    res = conn.execute(update(NOTIFICATION).where(NOTIFICATION.c.status == "failed")
                       .values(status="pending", attempts=0, next_attempt_at=now))
    return res.rowcount
