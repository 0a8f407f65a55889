"""Issue 3: outbox delivery to a local SMTP server (aiosmtpd on loopback), one connection reused.

N pending client emails ("mise à jour du dossier") in a temporary SQLite database, each on its
own case; `deliver_pending` claims them, loads each case, renders the French templates (text +
HTML), sends over one SMTP connection and records each message as sent. The raw rate is
smtplib alone sending the very same (already built) messages over one connection to the same
server: the floor that the outbox's bookkeeping is compared with. The server runs in a thread
of this process, so it shares the interpreter with the sender: both rates include its cost.
"""
from __future__ import annotations

import gc
import smtplib
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import insert, select

from bench.common import Result
from config.settings import Settings
from notifications.delivery import deliver_pending
from notifications.outbox import enqueue
from notifications.render import render
from notifications.smtp_sender import SmtpSender, build_message, message_id
from notifications.testing import LoopbackSmtp
from states.calendar import contact_window, due_date
from store.cases import NewCase, open_cases
from store.db import make_engine, upgrade
from store.tables import Advisor, Client, Contract, Notification

N = 2_000
QUICK_N = 200
TARGET = 200.0  # messages per second
NOW = datetime(2026, 4, 15, 8, 30, tzinfo=timezone.utc)
CLIENT = dict(kind="particulier", last_name="Dupont", first_name="Marie", address="12 rue de la Corniche",
              postal_code="13007", city="Marseille", phone="+33612345678", agency_id="corniche")


def _seed(engine, n: int) -> None:
    effective = date(2026, 1, 15)
    due = due_date(effective)
    start, end = contact_window(due)
    with engine.begin() as conn:
        advisors = [conn.execute(insert(Advisor.__table__).values(
            name=f"Conseillère {i}", agency_id="corniche", active=True, email=f"c{i}@agence.example",
        ).returning(Advisor.__table__.c.id)).scalar_one() for i in range(10)]
        conn.execute(insert(Client.__table__), [dict(CLIENT, id=f"CL{i}", email=f"client{i}@example.fr",
                                                     advisor_id=advisors[i % 10]) for i in range(n)])
        conn.execute(insert(Contract.__table__), [
            dict(id=f"K{i}", client_id=f"CL{i}", family="IARD", product="Auto", effective_date=effective,
                 status="active", premium_eur=600) for i in range(n)])
        ids = open_cases(conn, [NewCase(f"CL{i}", "corniche", [f"K{i}"], f"{due:%Y-%m}", due, start, end,
                                        advisors[i % 10]) for i in range(n)], "system:bench", NOW)
        for i, case_id in enumerate(ids):
            enqueue(conn, kind="client_email", channel="email", dedupe_key=f"case:{case_id}:2:client_email",
                    now=NOW, case_id=case_id, recipient=f"client{i}@example.fr")


def run(quick: bool) -> list[Result]:
    n = QUICK_N if quick else N
    with tempfile.TemporaryDirectory() as tmp, LoopbackSmtp() as server:
        server.handler.keep_content = False
        engine = make_engine(f"sqlite:///{Path(tmp) / 'm3.db'}")
        upgrade(engine)
        try:
            _seed(engine, n)
            settings = Settings(smtp_port=server.port, data_dir=Path(tmp))
            # The same messages for the raw run, built before the outbox sends them.
            with engine.connect() as conn:
                rows = conn.execute(select(Notification.__table__).order_by(Notification.id)).all()
                raw_msgs = [build_message(render(conn, r, NOW), to=r.recipient, mail_from=settings.mail_from,
                                          msg_id=message_id(r.id, "raw:" + r.dedupe_key), date=NOW, kind=r.kind)
                            for r in rows]
            gc.collect()
            sender = SmtpSender.from_settings(settings)
            t0 = time.perf_counter()
            summary = deliver_pending(engine, NOW, sender=sender, settings=settings)
            outbox_s = time.perf_counter() - t0
            sender.close()
            ids = server.handler.message_ids()
            exactly_once = summary.sent == n and len(ids) == n and len(set(ids)) == n

            server.handler.messages.clear()
            gc.collect()
            t0 = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", server.port) as smtp:
                for msg in raw_msgs:
                    smtp.sendmail(msg.mail_from, [msg.to], msg.data)
            raw_s = time.perf_counter() - t0
        finally:
            engine.dispose()
    rate, raw_rate = n / outbox_s, n / raw_s
    return [
        Result(f"outbox → SMTP, {n} client emails", rate, "msg/s", f">= {TARGET:.0f}", rate >= TARGET,
               f"{sender.connections} connection(s); exactly once: {exactly_once}"),
        Result("raw smtplib, same messages, 1 connection", raw_rate, "msg/s"),
        Result("ratio raw / outbox", raw_rate / rate, "x", note="render + claim + mark-sent per message"),
        Result("outbox cost per message", outbox_s / n * 1000, "ms"),
    ]


if __name__ == "__main__":  # pragma: no cover
    for r in run(quick=False):
        print(r)
