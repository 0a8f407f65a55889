"""Issue 9, hole 1: one message that cannot be sent fails alone, the queue goes on, the attempt
limit holds (SQLite and PostgreSQL, a real aiosmtpd on loopback where a server is needed)."""
from __future__ import annotations

import logging
import smtplib
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select, update

import config
from config.settings import Settings
from notifications import delivery
from notifications.delivery import deliver_pending
from notifications.outbox import enqueue
from notifications.smtp_sender import SmtpSender
from notifications.testing import LoopbackSmtp
from store.tables import Advisor, Client, Notification
from tests import factories as f

N = Notification.__table__
POISON = "client1@example.fr\r\nBcc: x@evil.example"


@pytest.fixture
def smtp():
    with LoopbackSmtp() as server:
        yield server


@pytest.fixture
def settings(smtp, tmp_path):
    return Settings(smtp_port=smtp.port, smtp_timeout_s=5, data_dir=tmp_path, outbox_max_attempts=3,
                    outbox_backoff_base_s=30, outbox_backoff_max_s=3600, outbox_claim_lease_s=300)


def _rows(engine):
    with engine.connect() as conn:
        return list(conn.execute(select(N).order_by(N.c.id)))


def _three_client_emails(engine, now, middle_email=POISON):
    """Three client emails queued by the write path's rule (recipient = the client's email), the
    middle client's email as the CRM sent it."""
    with engine.begin() as conn:
        for i in range(3):
            email = middle_email if i == 1 else f"client{i}@example.fr"
            case_id, *_ = f.ready_case(conn, email=email)
            enqueue(conn, kind="client_email", channel="email", dedupe_key=f"case:{case_id}:2:client_email",
                    now=now, case_id=case_id, recipient=email)


@pytest.fixture
def m3_send(m3, smtp, tmp_path, monkeypatch):
    """`m3 ARGS...` in-process against the test database and the loopback server."""
    monkeypatch.setenv("M3_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))
    config.get_settings.cache_clear()
    yield m3
    config.get_settings.cache_clear()


def test_outbox__poisoned_address_fails_alone_and_m3_send_exits_0(engine, now, smtp, m3_send, caplog):
    caplog.set_level(logging.DEBUG)
    _three_client_emails(engine, now)
    sent = m3_send("send", "--today", "2026-04-15")
    assert sent.exit_code == 0, sent.output
    assert "envoyés 2" in sent.output and "en échec 1" in sent.output
    # The other two arrived exactly once; nobody else received anything.
    rcpts = sorted(r for m in smtp.handler.messages for r in m.rcpt_tos)
    assert rcpts == ["client0@example.fr", "client2@example.fr"]
    assert len(smtp.handler.messages) == 2 and len(set(smtp.handler.message_ids())) == 2
    for m in smtp.handler.messages:  # no injected header
        head = m.content.split(b"\r\n\r\n", 1)[0].lower()
        assert b"bcc:" not in head and b"evil.example" not in m.content
    rows = _rows(engine)
    assert [r.status for r in rows] == ["sent", "failed", "sent"]
    assert rows[1].last_error == "invalid_recipient" and rows[1].attempts == 1 and rows[1].next_attempt_at is None
    # A second run sends nothing again and does not touch the failed row.
    again = m3_send("send", "--today", "2026-04-15")
    assert again.exit_code == 0 and "envoyés 0" in again.output
    assert len(smtp.handler.messages) == 2 and _rows(engine)[1].attempts == 1
    # `m3 outbox` shows it failed, with its reason in French, the address escaped, never raw.
    shown = m3_send("outbox", "--status", "failed")
    assert shown.exit_code == 0, shown.output
    flat = " ".join(shown.output.split())
    assert "adresse email inutilisable" in flat and "m3 outbox retry" in flat
    assert "\r\nBcc" not in shown.output
    assert "client1" not in caplog.text and "evil.example" not in caplog.text  # no address in the logs
    assert f"notification {rows[1].id}: failed (invalid_recipient)" in caplog.text


def test_outbox__retry_after_the_client_record_is_corrected(engine, now, smtp, m3_send):
    _three_client_emails(engine, now)
    assert m3_send("send", "--today", "2026-04-15").exit_code == 0
    failed = _rows(engine)[1]
    # Still poisoned: refused, nothing changes.
    refused = m3_send("outbox", "retry", failed.id)
    assert refused.exit_code == 1 and "reste inutilisable" in refused.output and "\r\nBcc" not in refused.output
    assert _rows(engine)[1].status == "failed"
    assert m3_send("outbox", "retry", _rows(engine)[0].id).exit_code == 1  # a sent row is not retried
    assert m3_send("outbox", "retry", 999_999).exit_code == 1
    with engine.begin() as conn:  # the advisor corrected the fiche
        conn.execute(update(Client.__table__).where(Client.__table__.c.email == POISON)
                     .values(email="client1.corrige@example.fr"))
    done = m3_send("outbox", "retry", failed.id)
    assert done.exit_code == 0, done.output
    row = _rows(engine)[1]
    assert (row.status, row.attempts, row.last_error, row.recipient) == ("pending", 0, None, None)
    assert m3_send("send").exit_code == 0
    assert sorted(r for m in smtp.handler.messages for r in m.rcpt_tos) == [
        "client0@example.fr", "client1.corrige@example.fr", "client2@example.fr"]
    assert _rows(engine)[1].status == "sent" and _rows(engine)[1].recipient == "client1.corrige@example.fr"


@pytest.mark.parametrize("email", ["client1@example.fr\r\n", "\nclient1@example.fr", "client1@example.fr\x0b",
                                   "\u2028client1@example.fr",
                                   "josé@example.fr", "pas une adresse", "client1@example.fr, x@evil.example"])
def test_outbox__an_address_that_cannot_be_a_recipient_fails_its_row_only(engine, now, smtp, settings, email):
    _three_client_emails(engine, now, middle_email=email)
    summary = deliver_pending(engine, now, settings=settings)
    assert (summary.sent, summary.failed, summary.retried, summary.stopped) == (2, 1, 0, None)
    assert [(r.status, r.last_error) for r in _rows(engine)] == [
        ("sent", None), ("failed", "invalid_recipient"), ("sent", None)]
    assert sorted(r for m in smtp.handler.messages for r in m.rcpt_tos) == ["client0@example.fr", "client2@example.fr"]


def test_outbox__a_header_that_cannot_be_built_fails_its_row_and_the_run_goes_on(engine, now, smtp, settings):
    """The advisor's address (Reply-To of a client's email) holds a line break: that message cannot
    be built; it fails with the exception's type, the next one leaves on the same connection."""
    _three_client_emails(engine, now, middle_email="client1@example.fr")
    middle = _rows(engine)[1]
    with engine.begin() as conn:
        adv = Advisor.__table__
        middle_advisor = conn.execute(select(adv.c.id).order_by(adv.c.id).limit(1).offset(1)).scalar_one()
        conn.execute(update(adv).where(adv.c.id == middle_advisor)
                     .values(email="julie@agence.example\r\nBcc: x@evil.example"))
    with SmtpSender.from_settings(settings) as sender:
        summary = deliver_pending(engine, now, settings=settings, sender=sender)
    assert (summary.sent, summary.failed, summary.stopped) == (2, 1, None)
    assert sender.connections == 1
    rows = {r.id: r for r in _rows(engine)}
    assert (rows[middle.id].status, rows[middle.id].last_error) == ("failed", "build: ValueError")
    assert all(b"evil.example" not in m.content for m in smtp.handler.messages)


class _FakeSender:
    """A sender that raises `errors[recipient]` for that recipient and records the others."""

    def __init__(self, errors):
        self.errors, self.sent, self.abandoned = errors, [], 0

    def connect(self):
        pass

    def send(self, msg):
        if msg.to in self.errors:
            raise self.errors[msg.to]
        self.sent.append(msg.to)

    def abandon(self):
        self.abandoned += 1

    def close(self):
        pass


PERMANENT = [
    (smtplib.SMTPRecipientsRefused({"client1@example.fr": (550, b"no such user")}), "smtp 550 recipient refused"),
    (smtplib.SMTPDataError(554, b"message refused"), "smtp 554 SMTPDataError"),
    (smtplib.SMTPNotSupportedError("SMTPUTF8"), "SMTPNotSupportedError"),
    (UnicodeEncodeError("ascii", "é", 0, 1, "no"), "send: UnicodeEncodeError"),
    (ValueError("bad"), "send: ValueError"),
]
TRANSIENT = [
    (smtplib.SMTPRecipientsRefused({"client1@example.fr": (452, b"busy")}), "smtp 452 recipient refused"),
    (smtplib.SMTPDataError(451, b"try later"), "smtp 451 SMTPDataError"),
    (RuntimeError("nobody foresaw this"), "unexpected: RuntimeError"),
]
UNREACHABLE = [ConnectionRefusedError(), socket.timeout("timed out"), smtplib.SMTPServerDisconnected("gone")]


@pytest.mark.parametrize(("error", "code"), PERMANENT, ids=[c for _, c in PERMANENT])
def test_outbox__a_permanent_error_fails_the_row_and_the_next_is_sent(engine, now, settings, error, code, caplog):
    caplog.set_level(logging.DEBUG)
    _three_client_emails(engine, now, middle_email="client1@example.fr")
    sender = _FakeSender({"client1@example.fr": error})
    summary = deliver_pending(engine, now, settings=settings, sender=sender)
    assert (summary.sent, summary.failed, summary.retried, summary.stopped) == (2, 1, 0, None)
    assert sender.sent == ["client0@example.fr", "client2@example.fr"]
    middle = _rows(engine)[1]
    assert (middle.status, middle.last_error, middle.attempts) == ("failed", code, 1)
    assert "client1" not in code and "client1" not in caplog.text  # the code and the type, never the address


@pytest.mark.parametrize(("error", "code"), TRANSIENT, ids=[c for _, c in TRANSIENT])
def test_outbox__a_transient_error_retries_the_row_with_backoff_up_to_the_limit(engine, now, settings, error, code):
    _three_client_emails(engine, now, middle_email="client1@example.fr")
    sender = _FakeSender({"client1@example.fr": error})
    summary = deliver_pending(engine, now, settings=settings, sender=sender)
    assert (summary.sent, summary.failed, summary.retried, summary.stopped) == (2, 0, 1, None)
    middle = _rows(engine)[1]
    assert (middle.status, middle.last_error, middle.attempts) == ("pending", code, 1)
    assert middle.next_attempt_at == now + timedelta(seconds=30)
    t = now + timedelta(seconds=30)
    for attempt in (2, 3):  # outbox_max_attempts = 3: the third try is the last
        deliver_pending(engine, t, settings=settings, sender=sender)
        t += timedelta(hours=2)
    middle = _rows(engine)[1]
    assert (middle.status, middle.attempts, middle.last_error) == ("failed", 3, f"max_attempts after {code}")
    assert deliver_pending(engine, t, settings=settings, sender=sender).failed == 0 and _rows(engine)[1].attempts == 3


@pytest.mark.parametrize("error", UNREACHABLE, ids=lambda e: type(e).__name__)
def test_outbox__an_unreachable_server_stops_the_run_and_retries_every_claimed_row(engine, now, settings, error):
    _three_client_emails(engine, now, middle_email="client1@example.fr")
    sender = _FakeSender({"client1@example.fr": error})
    summary = deliver_pending(engine, now, settings=settings, sender=sender)
    assert (summary.sent, summary.failed, summary.retried) == (1, 0, 2) and summary.stopped
    rows = _rows(engine)
    assert [r.status for r in rows] == ["sent", "pending", "pending"]
    assert {r.next_attempt_at for r in rows[1:]} == {now + timedelta(seconds=30)}


def test_outbox__rows_left_sending_by_crashed_senders_fail_at_the_attempt_limit(engine, now, smtp, settings):
    """A sender dies after its claim, again and again (the message kills it): each expired lease
    counts one attempt, and the claim after the last one fails the row instead of trying it once
    more. The row next to it, claimed in the same batches, is delivered once the crashes stop."""
    _three_client_emails(engine, now, middle_email="client1@example.fr")
    lease = timedelta(seconds=settings.outbox_claim_lease_s)
    t = now
    for attempt in range(1, settings.outbox_max_attempts + 1):
        claimed = delivery._claim(engine, t, 1, settings)  # the oldest due row... then the process dies
        assert [c.row.id for c in claimed] == [_rows(engine)[0].id] and claimed[0].attempts == attempt
        t += lease + timedelta(seconds=1)
    first = _rows(engine)[0]
    assert (first.status, first.attempts) == ("sending", settings.outbox_max_attempts)
    summary = deliver_pending(engine, t, settings=settings)
    assert (summary.sent, summary.failed) == (2, 1)
    rows = _rows(engine)
    assert (rows[0].status, rows[0].attempts, rows[0].last_error) == (
        "failed", settings.outbox_max_attempts, "max_attempts after interrupted")
    assert [r.status for r in rows[1:]] == ["sent", "sent"]
    assert sorted(r for m in smtp.handler.messages for r in m.rcpt_tos) == ["client1@example.fr", "client2@example.fr"]


def test_outbox__requeue_failed_reads_the_corrected_client_address(engine, now, smtp, settings):
    from notifications.outbox import requeue_failed

    _three_client_emails(engine, now)
    deliver_pending(engine, now, settings=settings)
    with engine.begin() as conn:
        conn.execute(update(Client.__table__).where(Client.__table__.c.email == POISON)
                     .values(email="client1@example.fr"))
        assert requeue_failed(conn, now) == 1
    assert deliver_pending(engine, now, settings=settings).sent == 1
    assert sorted(r for m in smtp.handler.messages for r in m.rcpt_tos) == [
        "client0@example.fr", "client1@example.fr", "client2@example.fr"]
