"""Faults: the SMTP server (aiosmtpd on loopback) is down while `m3 escalate` then `m3 send`
run; it comes back, `m3 send` runs again: every message is delivered exactly once, counted at
the receiver by Message-ID, and a later `m3 send` sends nothing more."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from config import get_settings
from notifications.testing import LoopbackSmtp, free_port
from states.calendar import PARIS
from states.commands import RecordAttempt
from states.records import AttemptOutcome, Channel
from store.snapshot import CASE
from store.tables import Notification
from store.write_path import execute
from tests import factories as f
from tests.hardening import logscan

pytestmark = pytest.mark.hardening

NOTIF = Notification.__table__
CASES = 8


def _failed_calls(engine, case_id: int) -> None:
    for day in (5, 6, 9):  # Thu 5, Fri 6, Mon 9 November 2026, 10:30 in Paris: three failed calls, two days
        at = datetime(2026, 11, day, 10, 30, tzinfo=PARIS)
        with engine.connect() as conn:
            version = conn.execute(select(CASE.c.version).where(CASE.c.id == case_id)).scalar_one()
        execute(engine, case_id, version, RecordAttempt(Channel.PHONE, at, AttemptOutcome.NO_ANSWER), "advisor:1",
                at + timedelta(minutes=1))


def test_faults__smtp_down_for_an_escalation_then_back_every_message_delivered_once(engine, m3, tmp_path,
                                                                                    monkeypatch, figures):
    emails = [f"relance.smtp{i}@example.fr" for i in range(CASES)]
    logscan.register_values(emails=emails)
    with engine.begin() as conn:
        ids = [f.ready_case(conn, email=e)[0] for e in emails]
    for case_id in ids:
        _failed_calls(engine, case_id)
    port = free_port()  # nothing listens there yet: the SMTP server is down
    monkeypatch.setenv("M3_SMTP_PORT", str(port))
    monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()

    escalated = m3("escalate", "--today", "2026-11-10")
    assert escalated.exit_code == 0, escalated.output
    down = m3("send", "--today", "2026-11-10")
    assert down.exit_code == 2, down.output  # stopped: the server cannot be reached
    with engine.connect() as conn:
        rows = conn.execute(select(NOTIF).where(NOTIF.c.channel == "email")).all()
    assert len(rows) == CASES and {r.status for r in rows} == {"pending"}, [(r.kind, r.status) for r in rows]
    assert all(r.last_error for r in rows)

    with LoopbackSmtp(port=port) as smtp:
        up = m3("send", "--today", "2026-11-11")
        assert up.exit_code == 0, up.output
        again = m3("send", "--today", "2026-11-12")
        assert again.exit_code == 0, again.output
        received = Counter(smtp.handler.message_ids())
        recipients = sorted(r for m in smtp.handler.messages for r in m.rcpt_tos)
    with engine.connect() as conn:
        rows = conn.execute(select(NOTIF).where(NOTIF.c.channel == "email")).all()
    assert {r.status for r in rows} == {"sent"}
    assert set(received) == {r.message_id for r in rows} and set(received.values()) == {1}, received
    assert recipients == sorted(emails)
    figures(f"{engine.dialect.name}: SMTP down for m3 escalate + m3 send, then back: {len(received)} messages, "
            f"each received exactly once (by Message-ID), nothing sent by a later run")
