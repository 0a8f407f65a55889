"""Deliver the outbox: claim due rows, render, send (SMTP) or write (letters), record the outcome.

Nothing lost, nothing sent twice:
- A row is *claimed* before it is sent: in one short transaction, due rows (pending, or
  "sending" whose lease expired) become "sending", `attempts` goes up by one and
  `next_attempt_at` moves to now + lease. On PostgreSQL the SELECT uses FOR UPDATE SKIP LOCKED;
  SQLite serialises writers (BEGIN IMMEDIATE). Two `m3 send` running at once therefore never
  send the same row: the second one does not see rows the first one holds.
- Each accepted message is marked "sent" (sent_at, message_id) in its own transaction right
  after the server accepted it, so a crash loses at most the record of one message per sender.
- If the process dies between the server's acceptance and that record, the row stays
  "sending" until its lease expires, then it is sent again with the same Message-ID (derived
  from the notification). Receivers that deduplicate on Message-ID drop the copy; a plain
  mailbox shows the message twice, with identical Message-ID, subject and body.
- A letter is "sent" when its PDF is in the print folder; the file name carries the
  notification id and an existing file is reused, so a crash never prints a letter twice.

Failures: a refusal with a 5xx code fails the row at once; a 4xx code retries after
base * 2**(attempts-1) seconds (capped), and the row fails after `outbox_max_attempts`.
When the server cannot be reached (connection refused, timeout, dropped connection, login
refused) the run stops: every claimed row that was not sent counts one attempt and gets the same
backoff (the server was down for all of them); unclaimed rows stay pending, untouched.
A client who opposed a channel (client.opposition_email / opposition_letter) gets nothing on
it: the row becomes "cancelled" with the reason in last_error. Service messages
(context.SERVICE_KINDS: appointment confirmations and cancellations) are not marketing and go
all the same. Errors recorded in `last_error`
and in the log carry codes and ids only, never personal data.
"""
from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, or_, select, update

from notifications import context as ctxmod
from notifications.render import RenderedEmail, RenderedLetter, render_context
from notifications.smtp_sender import SmtpSender, build_message, message_id
from states.calendar import PARIS
from store.tables import Notification

log = logging.getLogger("m3.notifications")
N = Notification.__table__
STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
_CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPHeloError,
                      smtplib.SMTPAuthenticationError)


@dataclass
class DeliverySummary:
    sent: int = 0  # emails accepted by the server and letters written to the print folder
    letters: int = 0  # of which letters
    retried: int = 0  # rescheduled with backoff
    failed: int = 0  # given up (permanent refusal, render error, attempts exhausted)
    cancelled: int = 0  # not sent on purpose (opposition, no address)
    stopped: str | None = None  # why the run stopped early (the server could not be reached)
    letter_files: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"envoyés {self.sent} (dont courriers {self.letters}) · à réessayer {self.retried} · "
                f"en échec {self.failed} · annulés {self.cancelled}")
        return text + (f" · interrompu : {self.stopped}" if self.stopped else "")


@dataclass
class _Claimed:
    row: Any
    attempts: int  # after this claim
    ctx: dict[str, Any] | None
    error: str | None = None


class _ConnectionDown(Exception):
    pass


def backoff(attempts: int, base_s: float, max_s: float) -> timedelta:
    """Delay before the next try after `attempts` tries: base, 2*base, 4*base... capped at max_s."""
    return timedelta(seconds=min(base_s * 2 ** max(attempts - 1, 0), max_s))


def deliver_pending(engine: Engine, now: datetime, *, sender: SmtpSender | None = None, settings=None,
                    limit: int | None = None, batch_size: int = 100,
                    letters_dir: Path | None = None) -> DeliverySummary:
    """Deliver the notifications due at `now` (at most `limit`), oldest first. A sender passed in
    is left open for the caller; one made here from the settings is closed at the end."""
    if settings is None:
        from config import get_settings
        settings = get_settings()
    own = sender is None
    sender = sender or SmtpSender.from_settings(settings)
    letters_dir = Path(letters_dir or settings.letters_dir)
    summary = DeliverySummary()
    remaining = limit
    try:
        while remaining is None or remaining > 0:
            n = batch_size if remaining is None else min(batch_size, remaining)
            batch = _claim(engine, now, n, settings)
            if remaining is not None:
                remaining -= len(batch)
            for i, item in enumerate(batch):
                try:
                    _deliver_one(engine, item, now, sender, settings, letters_dir, summary)
                except _ConnectionDown as exc:
                    summary.stopped = str(exc)
                    _retry_many(engine, batch[i:], now, str(exc), settings, summary)
                    break
            if summary.stopped or len(batch) < n:
                break
    finally:
        if own:
            sender.close()
    log.info("outbox: sent=%s letters=%s retried=%s failed=%s cancelled=%s stopped=%s", summary.sent,
             summary.letters, summary.retried, summary.failed, summary.cancelled, summary.stopped)
    return summary


def _claim(engine: Engine, now: datetime, n: int, settings) -> list[_Claimed]:
    lease = timedelta(seconds=settings.outbox_claim_lease_s)
    with engine.begin() as conn:
        q = (select(N).where(N.c.status.in_(("pending", "sending")),
                             or_(N.c.next_attempt_at.is_(None), N.c.next_attempt_at <= now))
             .order_by(N.c.id).limit(n))
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = conn.execute(q).all()
        if not rows:
            return []
        conn.execute(update(N).where(N.c.id.in_([r.id for r in rows]))
                     .values(status="sending", attempts=N.c.attempts + 1, next_attempt_at=now + lease))
        contexts = ctxmod.load_many(conn, rows)
    claimed = []
    for r in rows:
        ctx = contexts[r.id]
        if isinstance(ctx, ctxmod.MissingData):
            claimed.append(_Claimed(r, r.attempts + 1, None, f"missing {ctx}"))
        else:
            claimed.append(_Claimed(r, r.attempts + 1, ctx))
    return claimed


def _deliver_one(engine: Engine, item: _Claimed, now: datetime, sender: SmtpSender, settings,
                 letters_dir: Path, summary: DeliverySummary) -> None:
    row = item.row
    if item.error:
        return _finish(engine, row.id, summary, "failed", error=item.error)
    ctx = item.ctx or {}
    reason = _opposition(row, ctx)
    if reason:
        return _finish(engine, row.id, summary, "cancelled", error=reason)
    to = _recipient(row, ctx, settings) if row.channel == "email" else None
    if row.channel == "email" and not to:
        return _finish(engine, row.id, summary, "cancelled", error="no_recipient")
    try:
        rendered = render_context(row, ctx, now)
    except Exception as exc:  # a template or data bug: retrying will not help
        log.exception("notification %s: render failed", row.id)
        return _finish(engine, row.id, summary, "failed", error=f"render: {type(exc).__name__}")
    if isinstance(rendered, RenderedLetter):
        try:
            path = _write_letter(letters_dir, now, rendered)
        except OSError as exc:
            return _retry_many(engine, [item], now, f"letter: {type(exc).__name__}", settings, summary)
        summary.letters += 1
        summary.letter_files.append(path)
        return _finish(engine, row.id, summary, "sent", now=now,
                       message_id=f"letter:{path.relative_to(letters_dir).as_posix()}")
    assert isinstance(rendered, RenderedEmail)
    msg_id = message_id(row.id, row.dedupe_key, settings.message_id_domain)
    # A client's email comes from the agency, with the advisor's name; staff messages from M3_MAIL_FROM.
    msg = build_message(rendered, to=to, mail_from=rendered.mail_from or settings.mail_from, msg_id=msg_id, date=now,
                        kind=row.kind)
    try:
        sender.send(msg)
    except _CONNECTION_ERRORS as exc:
        raise _ConnectionDown(_smtp_error(exc)) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= c < 600 for c in codes)
        error = f"smtp {','.join(map(str, sorted(set(codes))))} recipient refused"
        if permanent:
            return _finish(engine, row.id, summary, "failed", error=error)
        return _retry_many(engine, [item], now, error, settings, summary)
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            return _finish(engine, row.id, summary, "failed", error=_smtp_error(exc))
        return _retry_many(engine, [item], now, _smtp_error(exc), settings, summary)
    except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address without SMTPUTF8
        return _finish(engine, row.id, summary, "failed", error=_smtp_error(exc))
    except OSError as exc:  # refused, reset, timeout: the server is not there
        raise _ConnectionDown(_smtp_error(exc)) from exc
    _finish(engine, row.id, summary, "sent", now=now, message_id=msg_id, recipient=to)


def _opposition(row, ctx: dict[str, Any]) -> str | None:
    if row.kind not in ctxmod.CLIENT_KINDS or row.kind in ctxmod.SERVICE_KINDS:
        return None  # staff messages, and service messages an opposition to marketing does not stop
    client = ctx.get("client") or {}
    if row.channel == "email" and client.get("opposition_email"):
        return "opposition_email"
    if row.channel == "letter" and client.get("opposition_letter"):
        return "opposition_letter"
    return None


def _recipient(row, ctx: dict[str, Any], settings) -> str | None:
    """The address decided when the row was queued; else the client's current one (client
    messages) or the agency's manager address (manager digest)."""
    if row.recipient:
        return row.recipient
    if row.kind in ctxmod.CLIENT_KINDS:
        return (ctx.get("client") or {}).get("email")
    if row.kind == "manager_digest":
        return settings.manager_emails.get((ctx.get("agency") or {}).get("id") or "")
    return None


def _smtp_error(exc: BaseException) -> str:
    # The code and the exception's type only: server texts may echo addresses (personal data).
    code = getattr(exc, "smtp_code", None)
    return f"smtp {code} {type(exc).__name__}" if code else type(exc).__name__


def _write_letter(letters_dir: Path, now: datetime, rendered: RenderedLetter) -> Path:
    """Write the PDF to <letters_dir>/<YYYY-MM-DD>/; a file already there for this notification
    (a crash after writing it) is kept, so a letter is never printed twice."""
    existing = sorted(letters_dir.glob(f"*/{rendered.filename}"))
    if existing:
        return existing[0]
    folder = letters_dir / f"{now.astimezone(PARIS):%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / rendered.filename
    tmp = path.with_suffix(".pdf.part")
    tmp.write_bytes(rendered.pdf)
    os.replace(tmp, path)
    return path


def _finish(engine: Engine, row_id: int, summary: DeliverySummary, status: str, *, now: datetime | None = None,
            error: str | None = None, message_id: str | None = None, recipient: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "last_error": error, "next_attempt_at": None}
    if status == "sent":
        values.update(sent_at=now, message_id=message_id)
        if recipient:
            values["recipient"] = recipient
    with engine.begin() as conn:
        done = conn.execute(update(N).where(N.c.id == row_id, N.c.status == "sending").values(values)).rowcount
    if not done:  # the lease expired and another sender took the row over: it owns the outcome
        log.warning("notification %s: no longer ours when marking %s", row_id, status)
    setattr(summary, status, getattr(summary, status) + 1)
    if status != "sent":
        log.info("notification %s: %s (%s)", row_id, status, error)


def _retry_many(engine: Engine, items: list[_Claimed], now: datetime, error: str, settings,
                summary: DeliverySummary) -> None:
    with engine.begin() as conn:
        for item in items:
            if item.attempts >= settings.outbox_max_attempts:
                values = {"status": "failed", "next_attempt_at": None, "last_error": error}
                summary.failed += 1
            else:
                values = {"status": "pending", "last_error": error,
                          "next_attempt_at": now + backoff(item.attempts, settings.outbox_backoff_base_s,
                                                           settings.outbox_backoff_max_s)}
                summary.retried += 1
            conn.execute(update(N).where(N.c.id == item.row.id, N.c.status == "sending").values(values))
    log.info("outbox: %s row(s) rescheduled or failed after %s", len(items), error)


