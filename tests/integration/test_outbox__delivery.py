"""The outbox delivered to a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL:
every kind, exactly once (checked by Message-ID), an outage, refusals, opposition, the
crash-after-accept case, two senders at once, and the letters' print folder."""
from __future__ import annotations

import email
import email.policy
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from config.settings import Settings
from notifications import delivery
from notifications.delivery import deliver_pending
from notifications.outbox import enqueue
from notifications.smtp_sender import SmtpSender, build_message, message_id
from notifications.testing import LoopbackSmtp
from states.commands import FireEvent
from store.tables import Client, Notification
from store.write_path import execute
from tests import factories as f

N = Notification.__table__
CASE_SUMMARY = {"case_id": 1, "client_name": "Marie Dupont", "due_date": "2026-04-15", "window_end": "2026-04-22",
                "state": "a_contacter", "priority": 30, "late": True}


@pytest.fixture
def smtp():
    server = LoopbackSmtp()  # not started: each test decides when the server is up
    yield server
    server.stop()


@pytest.fixture
def settings(smtp, tmp_path):
    return Settings(smtp_port=smtp.port, smtp_timeout_s=5, data_dir=tmp_path, outbox_max_attempts=3,
                    outbox_backoff_base_s=30, outbox_backoff_max_s=3600, outbox_claim_lease_s=300)


def _rows(engine):
    with engine.connect() as conn:
        return {r.id: r for r in conn.execute(select(N).order_by(N.c.id))}


def _client_emails(engine, now, n=3, **client_overrides):
    with engine.begin() as conn:
        out = []
        for i in range(n):
            case_id, adv, cl, k = f.ready_case(conn, email=f"client{i}@example.fr", **client_overrides)
            enqueue(conn, kind="client_email", channel="email", dedupe_key=f"case:{case_id}:2:client_email",
                    now=now, case_id=case_id, recipient=f"client{i}@example.fr")
            out.append(case_id)
    return out


def _parsed(received):
    return email.message_from_bytes(received.content, policy=email.policy.default)


def test_outbox__every_kind_delivered_once_with_stable_message_id(engine, now, smtp, settings):
    with engine.begin() as conn:
        case_id, adv, cl, k = f.ready_case(conn)
        missing = [{"contract_id": k, "product": "Auto", "label": "Carte grise"}]
        enqueue(conn, kind="client_email", channel="email", dedupe_key="c:1", now=now, case_id=case_id,
                recipient="marie.dupont@example.fr")
        enqueue(conn, kind="documents_request", channel="email", dedupe_key="d:1", now=now, case_id=case_id,
                recipient="marie.dupont@example.fr", payload={"missing": missing})
        enqueue(conn, kind="advisor_digest", channel="email", dedupe_key="a:1", now=now, recipient="julie@agence.example",
                payload={"advisor_name": "Julie Martin", "as_of": "2026-04-15", "cases": [CASE_SUMMARY]})
        enqueue(conn, kind="manager_digest", channel="email", dedupe_key="m:1", now=now,  # address from settings
                payload={"agency_name": "Corniche", "as_of": "2026-04-15", "week": "2026-W16",
                         "by_advisor": [{"advisor_name": "Julie Martin", "overdue": 1}], "cases": [CASE_SUMMARY]})
        enqueue(conn, kind="action_reminder", channel="email", dedupe_key="r:1", now=now, recipient="julie@agence.example",
                payload={"owner_name": "Julie Martin", "as_of": "2026-04-15", "actions": [
                    {"case_id": case_id, "client_name": "Marie Dupont", "kind": "rdv", "label": None,
                     "due_date": "2026-04-16"}]})
    smtp.start()
    with SmtpSender.from_settings(settings) as sender:
        summary = deliver_pending(engine, now, settings=settings, sender=sender)
    assert (summary.sent, summary.retried, summary.failed, summary.cancelled) == (5, 0, 0, 0)
    assert sender.connections == 1  # one connection for the whole batch
    rows = _rows(engine)
    got = {m.message_id: m for m in smtp.handler.messages}
    assert len(smtp.handler.messages) == 5 and len(got) == 5
    for row in rows.values():
        assert row.status == "sent" and row.sent_at == now and row.attempts == 1
        assert row.message_id == message_id(row.id, row.dedupe_key) and row.message_id in got
    by_kind = {row.kind: _parsed(got[row.message_id]) for row in rows.values()}
    client = by_kind["client_email"]
    assert client["To"] == "marie.dupont@example.fr"
    assert client["Subject"] == "Votre dossier à l'Agence Corniche : mise à jour et bilan de vos assurances"
    link, mailto = client["List-Unsubscribe"].split(", ")
    assert link.startswith("<http://127.0.0.1:8000/desinscription/") and link.endswith(">")
    assert mailto == "<mailto:corniche@agence.example?subject=STOP>"
    assert client["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058
    text = client.get_body(("plain",)).get_content()
    assert "la mise à jour de votre dossier" in text and "un bilan de vos assurances" in text
    assert "vous opposer gratuitement" in text
    assert "vous opposer gratuitement" in client.get_body(("html",)).get_content()
    docs = by_kind["documents_request"]
    assert docs["List-Unsubscribe"] is None  # a service message, not marketing
    assert "Carte grise" in docs.get_body(("plain",)).get_content()
    assert by_kind["manager_digest"]["To"] == "direction.corniche@agence.example"
    assert by_kind["advisor_digest"]["Auto-Submitted"] == "auto-generated"
    for msg in by_kind.values():
        for part in ("plain", "html"):
            assert not re.search(r"\{\{|\}\}|\{%|%\}", msg.get_body((part,)).get_content())
    # A second run, even much later, sends nothing again.
    again = deliver_pending(engine, now + timedelta(days=1), settings=settings)
    assert again.sent == 0 and len(smtp.handler.messages) == 5


def test_outbox__outage_then_recovery_delivers_everything_exactly_once(engine, now, smtp, settings):
    _client_emails(engine, now, n=4)
    down = deliver_pending(engine, now, settings=settings)  # the server is not there
    assert (down.sent, down.retried, down.failed) == (0, 4, 0) and down.stopped
    for row in _rows(engine).values():
        assert row.status == "pending" and row.attempts == 1
        assert row.next_attempt_at == now + timedelta(seconds=30)
        assert row.last_error == "ConnectionRefusedError" and row.message_id is None
    # Not due yet: nothing is tried, nothing counted.
    early = deliver_pending(engine, now + timedelta(seconds=10), settings=settings)
    assert (early.sent, early.retried) == (0, 0)
    assert {r.attempts for r in _rows(engine).values()} == {1}
    # Still down at the second try: the delay doubles.
    deliver_pending(engine, now + timedelta(seconds=30), settings=settings)
    assert {r.next_attempt_at for r in _rows(engine).values()} == {now + timedelta(seconds=90)}
    smtp.start()
    up = deliver_pending(engine, now + timedelta(seconds=90), settings=settings)
    assert (up.sent, up.retried, up.failed, up.stopped) == (4, 0, 0, None)
    rows = _rows(engine)
    ids = smtp.handler.message_ids()
    assert sorted(ids) == sorted(r.message_id for r in rows.values()) and len(set(ids)) == 4
    assert all(r.status == "sent" and r.attempts == 3 and r.last_error is None for r in rows.values())
    deliver_pending(engine, now + timedelta(hours=2), settings=settings)
    assert len(smtp.handler.messages) == 4


def test_outbox__gives_up_after_max_attempts(engine, now, smtp, settings):
    _client_emails(engine, now, n=1)
    t = now
    for _ in range(settings.outbox_max_attempts):
        deliver_pending(engine, t, settings=settings)
        t += timedelta(hours=2)
    [row] = _rows(engine).values()
    assert (row.status, row.attempts) == ("failed", 3)
    smtp.start()
    assert deliver_pending(engine, t, settings=settings).sent == 0  # failed rows wait for a requeue
    from notifications.outbox import requeue_failed

    with engine.begin() as conn:
        assert requeue_failed(conn, t) == 1
    assert deliver_pending(engine, t, settings=settings).sent == 1


def test_outbox__permanent_refusal_fails_temporary_one_retries(engine, now, smtp, settings):
    _client_emails(engine, now, n=3)
    smtp.handler.reject = {"client0@example.fr": "550 5.1.1 No such user",
                           "client1@example.fr": "450 4.2.1 Mailbox busy"}
    smtp.start()
    summary = deliver_pending(engine, now, settings=settings)
    assert (summary.sent, summary.retried, summary.failed) == (1, 1, 1)  # the connection survives refusals
    rows = sorted(_rows(engine).values(), key=lambda r: r.recipient)
    assert [(r.recipient, r.status) for r in rows] == [
        ("client0@example.fr", "failed"), ("client1@example.fr", "pending"), ("client2@example.fr", "sent")]
    assert rows[0].last_error == "smtp 550 recipient refused"  # the code, never the server's text
    assert rows[1].next_attempt_at == now + timedelta(seconds=30)
    smtp.handler.reject = {}
    assert deliver_pending(engine, now + timedelta(seconds=30), settings=settings).sent == 1
    assert len(set(smtp.handler.message_ids())) == 2


def test_outbox__opposition_honoured_per_channel(engine, now, smtp, settings):
    with engine.begin() as conn:
        case_email, *_ = f.ready_case(conn, opposition_email=True)
        case_letter, *_ = f.ready_case(conn, opposition_letter=True, email="paul@example.fr")
        for case_id in (case_email, case_letter):
            enqueue(conn, kind="client_email", channel="email", dedupe_key=f"e:{case_id}", now=now, case_id=case_id,
                    recipient="someone@example.fr")
            enqueue(conn, kind="client_letter", channel="letter", dedupe_key=f"l:{case_id}", now=now, case_id=case_id)
    smtp.start()
    summary = deliver_pending(engine, now, settings=settings)
    assert (summary.sent, summary.letters, summary.cancelled) == (2, 1, 2)
    rows = {(r.case_id, r.channel): r for r in _rows(engine).values()}
    assert (rows[case_email, "email"].status, rows[case_email, "email"].last_error) == ("cancelled", "opposition_email")
    assert rows[case_email, "letter"].status == "sent"
    assert rows[case_letter, "email"].status == "sent"
    assert (rows[case_letter, "letter"].status, rows[case_letter, "letter"].last_error) == (
        "cancelled", "opposition_letter")
    assert len(smtp.handler.messages) == 1
    assert len(list((settings.letters_dir).glob("*/*.pdf"))) == 1


def test_outbox__opposition_recorded_after_enqueue_still_stops_the_message(engine, now, smtp, settings):
    _client_emails(engine, now, n=1)
    with engine.begin() as conn:
        conn.execute(update(Client.__table__).values(opposition_email=True))
    smtp.start()
    assert deliver_pending(engine, now, settings=settings).cancelled == 1
    assert smtp.handler.messages == []


def test_outbox__write_path_enqueues_in_its_transaction_and_delivery_sends(engine, now, smtp, settings):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    execute(engine, case_id, 1, FireEvent("envoyer_email"), "advisor:1", now)
    [row] = _rows(engine).values()
    assert (row.kind, row.status, row.case_id) == ("client_email", "pending", case_id)
    smtp.start()
    assert deliver_pending(engine, now, settings=settings).sent == 1
    [received] = smtp.handler.messages
    assert received.rcpt_tos == ["marie.dupont@example.fr"]


def test_outbox__crash_after_accept_resends_with_the_same_message_id(engine, now, smtp, settings):
    """The server accepted the message, then the sender died before recording it: the row stays
    'sending' until its lease expires, then goes out again with the same Message-ID."""
    _client_emails(engine, now, n=2)
    smtp.start()
    [first, second] = delivery._claim(engine, now, 2, settings)
    rendered = delivery.render_context(first.row, first.ctx, now)
    mid = message_id(first.row.id, first.row.dedupe_key)
    with SmtpSender("127.0.0.1", smtp.port) as sender:  # sent, and then "the process dies"
        sender.send(build_message(rendered, to=first.row.recipient, mail_from=settings.mail_from, msg_id=mid,
                                  date=now, kind="client_email"))
    assert deliver_pending(engine, now + timedelta(seconds=60), settings=settings).sent == 0  # leased
    summary = deliver_pending(engine, now + timedelta(seconds=301), settings=settings)
    assert summary.sent == 2
    ids = smtp.handler.message_ids()
    assert ids.count(mid) == 2 and len(ids) == 3  # the receiver sees the same Message-ID twice
    copies = [_parsed(m) for m in smtp.handler.messages if m.message_id == mid]
    assert copies[0]["Subject"] == copies[1]["Subject"]
    assert copies[0].get_body(("plain",)).get_content() == copies[1].get_body(("plain",)).get_content()
    assert all(r.status == "sent" for r in _rows(engine).values())


def test_outbox__a_second_sender_does_not_take_claimed_rows(engine, now, smtp, settings, monkeypatch):
    """Two senders at the same time (two threads, each with its own SMTP connection), two rows
    per claim: no row is claimed twice, none is sent twice, none is left behind.

    A barrier makes their first claims meet. PostgreSQL: inside the claim, each sender has run
    its SELECT (FOR UPDATE SKIP LOCKED) and waits for the other before its UPDATE, so both claim
    transactions are open at once. SQLite has one writer (BEGIN IMMEDIATE): both senders are
    released into their claim at the same instant and the database orders them."""
    n = 12
    _client_emails(engine, now, n=n)
    smtp.start()
    barrier, met = threading.Barrier(2), set()

    def meet() -> None:
        if threading.get_ident() not in met:  # each sender's first claim only
            met.add(threading.get_ident())
            barrier.wait(timeout=20)

    def before_update(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE notification") and "attempts" in statement:  # the claim's UPDATE
            meet()

    if engine.dialect.name == "postgresql":
        event.listen(engine, "before_cursor_execute", before_update)
    else:
        claim = delivery._claim

        def claim_together(*args, **kwargs):
            meet()
            return claim(*args, **kwargs)

        monkeypatch.setattr(delivery, "_claim", claim_together)
    results: dict[str, object] = {}

    def sender(name: str) -> None:
        try:
            results[name] = deliver_pending(engine, now, settings=settings, batch_size=2)
        except BaseException as exc:  # reported below, never lost in the thread
            results[name] = exc

    threads = [threading.Thread(target=sender, args=(name,)) for name in ("A", "B")]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        if event.contains(engine, "before_cursor_execute", before_update):
            event.remove(engine, "before_cursor_execute", before_update)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(r, delivery.DeliverySummary) for r in results.values()), results
    assert len(met) == 2 and not barrier.broken  # they did meet: both ran at once
    received = smtp.handler.message_ids()
    assert len(received) == len(set(received)) == n  # every message once, none twice
    assert sorted(r for m in smtp.handler.messages for r in m.rcpt_tos) == sorted(
        f"client{i}@example.fr" for i in range(n))
    assert sum(r.sent for r in results.values()) == n and all(r.sent >= 2 for r in results.values())
    rows = _rows(engine).values()
    assert all((r.status, r.attempts) == ("sent", 1) for r in rows)  # each row claimed exactly once
    assert sorted(r.message_id for r in rows) == sorted(received)


def test_outbox__letter_written_to_print_folder_once(engine, now, smtp, settings):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn, kind="entreprise", address="Zone Athélia IV\n12 avenue du Garlaban")
        enqueue(conn, kind="client_letter", channel="letter", dedupe_key="l:1", now=now, case_id=case_id)
    summary = deliver_pending(engine, now, settings=settings)  # no SMTP needed for letters
    assert (summary.sent, summary.letters, summary.stopped) == (1, 1, None)
    [path] = summary.letter_files
    [row] = _rows(engine).values()
    assert path == settings.letters_dir / "2026-04-15" / f"letter-{row.id}-case-{case_id}.pdf"
    assert row.message_id == f"letter:2026-04-15/{path.name}"
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    # A crash after the file was written: the row is retried (next day) and the same file is kept.
    with engine.begin() as conn:
        conn.execute(update(N).values(status="pending", next_attempt_at=now))
    again = deliver_pending(engine, now + timedelta(days=1), settings=settings)
    assert again.letter_files == [path]
    assert len(list(settings.letters_dir.glob("*/*.pdf"))) == 1


def test_outbox__no_recipient_cancelled_without_blocking_the_others(engine, now, smtp, settings):
    _client_emails(engine, now, n=1)
    with engine.begin() as conn:
        enqueue(conn, kind="advisor_digest", channel="email", dedupe_key="a:x", now=now, recipient=None,
                payload={"advisor_name": "X", "as_of": "2026-04-15", "cases": []})
    smtp.start()
    summary = deliver_pending(engine, now, settings=settings)
    assert (summary.sent, summary.cancelled) == (1, 1)
    assert {r.last_error for r in _rows(engine).values()} == {None, "no_recipient"}


def test_outbox__limit_and_order(engine, now, smtp, settings):
    _client_emails(engine, now, n=5)
    smtp.start()
    assert deliver_pending(engine, now, settings=settings, limit=2, batch_size=1).sent == 2
    rows = sorted(_rows(engine).values(), key=lambda r: r.id)
    assert [r.status for r in rows] == ["sent", "sent", "pending", "pending", "pending"]
