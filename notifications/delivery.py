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

Failures never stop the queue for one row (issue 9, hole 1: one address holding a line break
used to stop every later message). Each message fails or is retried alone:
- permanent, the row is `failed` at once with its reason: an address that cannot be a recipient
  (a line break, a control character, not an address: states.validators.sendable_email_address),
  a message that cannot be built (a header holding a line break, an encoding error), a template
  or data error, a 5xx refusal (unknown mailbox, message refused);
- temporary, the row is retried after base * 2**(attempts-1) seconds (capped): a 4xx refusal, or
  an error we do not know (the SMTP connection is then dropped and opened again for the next row);
- the server cannot be reached (connection refused, timeout, dropped connection, login refused):
  the run stops; every claimed row that was not sent counts one attempt and gets the same backoff
  (the server was down for all of them); unclaimed rows stay pending, untouched.
`attempts` counts every claim, and `outbox_max_attempts` bounds it: a row retried that often is
`failed`, and so is a row left in "sending" by a sender that died (its lease expired) once it has
used its attempts: the claim fails it instead of trying it once more, so a message that kills its
sender cannot kill every sender after it.
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
from states.validators import sendable_email_address
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
    exhausted: bool = False  # out of attempts: the claim itself marked it failed


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
                    rest = batch[i:]
                    summary.failed += sum(item.exhausted for item in rest)  # failed by the claim already
                    _retry_many(engine, [item for item in rest if not item.exhausted], now, str(exc), settings,
                                summary)
                    break
                except Exception as exc:  # noqa: BLE001 - one row never stops the queue
                    _unexpected(engine, item, now, exc, sender, settings, summary)
            if summary.stopped or len(batch) < n:
                break
    finally:
        if own:
            sender.close()
    log.info("outbox: sent=%s letters=%s retried=%s failed=%s cancelled=%s stopped=%s", summary.sent,
             summary.letters, summary.retried, summary.failed, summary.cancelled, summary.stopped)
    return summary


def _claim(engine: Engine, now: datetime, n: int, settings) -> list[_Claimed]:
    """Claim up to `n` due rows. A due row that has used its `outbox_max_attempts` is not tried
    again: it becomes `failed` here (`max_attempts after interrupted` when a sender died holding
    it, else `max_attempts after <its last error>`) and comes back as an `exhausted` item."""
    lease = timedelta(seconds=settings.outbox_claim_lease_s)
    with engine.begin() as conn:
        q = (select(N).where(N.c.status.in_(("pending", "sending")),
                             or_(N.c.next_attempt_at.is_(None), N.c.next_attempt_at <= now))
             .order_by(N.c.id).limit(n))
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        selected = conn.execute(q).all()
        if not selected:
            return []
        spent = [r for r in selected if r.attempts >= settings.outbox_max_attempts]
        for r in spent:
            conn.execute(update(N).where(N.c.id == r.id).values(
                status="failed", next_attempt_at=None, last_error=_exhausted_error(r)))
        rows = [r for r in selected if r.attempts < settings.outbox_max_attempts]
        contexts = {}
        if rows:
            conn.execute(update(N).where(N.c.id.in_([r.id for r in rows]))
                         .values(status="sending", attempts=N.c.attempts + 1, next_attempt_at=now + lease))
            contexts = ctxmod.load_many(conn, rows)
    claimed = [_Claimed(r, r.attempts, None, _exhausted_error(r), exhausted=True) for r in spent]
    for r in rows:
        ctx = contexts[r.id]
        if isinstance(ctx, ctxmod.MissingData):
            claimed.append(_Claimed(r, r.attempts + 1, None, f"missing {ctx}"))
        else:
            claimed.append(_Claimed(r, r.attempts + 1, ctx))
    return sorted(claimed, key=lambda c: c.row.id)


def _exhausted_error(row) -> str:
    # "sending" and due: its lease expired, the sender that held it died before recording an outcome.
    last = "interrupted" if row.status == "sending" else (row.last_error or "unknown")
    return last if last.startswith("max_attempts") else f"max_attempts after {last}"


def _deliver_one(engine: Engine, item: _Claimed, now: datetime, sender: SmtpSender, settings,
                 letters_dir: Path, summary: DeliverySummary) -> None:
    row = item.row
    if item.exhausted:  # already failed by the claim
        summary.failed += 1
        log.info("notification %s: failed (%s)", row.id, item.error)
        return None
    if item.error:
        return _finish(engine, row.id, summary, "failed", error=item.error)
    ctx = item.ctx or {}
    reason = _opposition(row, ctx)
    if reason:
        return _finish(engine, row.id, summary, "cancelled", error=reason)
    to = _recipient(row, ctx, settings) if row.channel == "email" else None
    if row.channel == "email" and not (to or "").strip():
        return _finish(engine, row.id, summary, "cancelled", error="no_recipient")
    if row.channel == "email":
        # The address must be able to stand in a header and an envelope: a CRM value holding a line
        # break ("a@b.fr\r\nBcc: x@evil.example") fails its own row, never the run, never a Bcc.
        to, bad = sendable_email_address(to)
        if bad:
            return _finish(engine, row.id, summary, "failed", error="invalid_recipient")
    try:
        rendered = render_context(row, ctx, now)
    except Exception as exc:  # a template or data bug: retrying will not help
        log.error("notification %s: render failed (%s at %s)", row.id, type(exc).__name__, _where(exc))
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
    try:
        msg = build_message(rendered, to=to, mail_from=rendered.mail_from or settings.mail_from, msg_id=msg_id,
                            date=now, kind=row.kind)
    except smtplib.SMTPNotSupportedError as exc:  # a non-ASCII address without SMTPUTF8
        return _finish(engine, row.id, summary, "failed", error=_smtp_error(exc))
    except (ValueError, UnicodeError, TypeError) as exc:  # a header holding a line break, an encoding error
        log.warning("notification %s: message not built (%s at %s)", row.id, type(exc).__name__, _where(exc))
        return _finish(engine, row.id, summary, "failed", error=f"build: {type(exc).__name__}")
    try:  # connecting apart from sending: a TLS or login failure is the server's, not this message's
        _optional(sender, "connect")
    except (smtplib.SMTPException, OSError) as exc:
        raise _ConnectionDown(_smtp_error(exc)) from exc
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
    except (ValueError, UnicodeError) as exc:  # the message itself cannot be sent: nothing left the process
        _optional(sender, "abandon")
        return _finish(engine, row.id, summary, "failed", error=f"send: {type(exc).__name__}")
    _finish(engine, row.id, summary, "sent", now=now, message_id=msg_id, recipient=to)


def _unexpected(engine: Engine, item: _Claimed, now: datetime, exc: Exception, sender: SmtpSender, settings,
                summary: DeliverySummary) -> None:
    """An error nobody foresaw while delivering one row: that row is retried with the backoff (the
    attempt limit bounds it) and the run goes on with a fresh SMTP connection. Logged by type and
    place only: an exception's text may carry an address."""
    log.error("notification %s: unexpected %s at %s", item.row.id, type(exc).__name__, _where(exc))
    _optional(sender, "abandon")
    _retry_many(engine, [item], now, f"unexpected: {type(exc).__name__}", settings, summary)


def _optional(sender, method: str) -> None:
    """A sender must have send() and close(); connect() and abandon() (SmtpSender's) are optional,
    so a test's fake sender of two methods still works."""
    fn = getattr(sender, method, None)
    if fn is not None:
        fn()


def _where(exc: BaseException) -> str:
    """Where an exception was raised (file:line of the innermost frame): enough to find a bug, no data."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else "?"


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
    """Reschedule claimed rows with the backoff, or fail those that used their last attempt."""
    with engine.begin() as conn:
        for item in items:
            if item.attempts >= settings.outbox_max_attempts:
                values = {"status": "failed", "next_attempt_at": None, "last_error": f"max_attempts after {error}"}
            else:
                values = {"status": "pending", "last_error": error,
                          "next_attempt_at": now + backoff(item.attempts, settings.outbox_backoff_base_s,
                                                           settings.outbox_backoff_max_s)}
            if conn.execute(update(N).where(N.c.id == item.row.id, N.c.status == "sending").values(values)).rowcount:
                if values["status"] == "failed":
                    summary.failed += 1
                else:
                    summary.retried += 1
            # else: recorded already, or taken over by another sender after its lease: not ours to count
    log.info("outbox: %s row(s) rescheduled or failed after %s", len(items), error)
