"""Appointment confirmations, updates and cancellations: queued by the write path, rendered in
French with the date and time in the client's time zone, and delivered even to a client opposed
to (marketing) email: a service message. SQLite and PostgreSQL, a real SMTP server on loopback."""
from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from config.settings import Settings
from notifications.delivery import deliver_pending
from notifications.render import RenderedEmail, render
from notifications.testing import LoopbackSmtp
from states.commands import BookAppointment, CancelAppointment, MoveAppointment
from states.records import AppointmentChannel
from store.snapshot import APPOINTMENT, CASE
from store.tables import Notification
from store.write_path import execute
from tests import factories as f

N = Notification.__table__
PARIS = ZoneInfo("Europe/Paris")
LEFTOVERS = re.compile(r"\{\{|\}\}|\{%|%\}")
AT = datetime(2026, 4, 17, 8, 30, tzinfo=PARIS)


def _version(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(CASE.c.version).where(CASE.c.id == case_id)).scalar_one()


def _do(engine, case_id, cmd, now):
    return execute(engine, case_id, _version(engine, case_id), cmd, "user:test", now)


def _rendered(engine, case_id, now):
    with engine.connect() as conn:
        rows = conn.execute(select(N).where(N.c.case_id == case_id).order_by(N.c.id)).all()
        return rows, [render(conn, r, now) for r in rows]


def _case(engine, **client):
    with engine.begin() as conn:
        adv = f.advisor(conn, name="Julie Martin", email="julie.martin@agence.example", first_name="Julie",
                        last_name="Martin", title="Chargée de clientèle")
        cl = f.client(conn, advisor_id=adv, **client)
        case_id = f.case(conn, cl, [f.contract(conn, cl, product="Auto")], adv)
    return case_id, adv


def test_appointment_messages__confirmation_update_and_cancellation_in_french(engine, now):
    case_id, adv = _case(engine, opposition_email=True)
    _do(engine, case_id, BookAppointment(AT, AppointmentChannel.PHONE, True, adv), now)
    with engine.connect() as conn:
        appt_id = conn.execute(select(APPOINTMENT.c.id)).scalar_one()
    _do(engine, case_id, MoveAppointment(appt_id, AT + timedelta(days=3), AppointmentChannel.AGENCY), now)
    _do(engine, case_id, CancelAppointment(appt_id, "empêchement du conseiller"), now)
    rows, (booked, moved, cancelled) = _rendered(engine, case_id, now)
    assert [r.kind for r in rows] == ["appointment_confirmation", "appointment_confirmation",
                                      "appointment_cancellation"]
    assert all(r.recipient == "marie.dupont@example.fr" for r in rows)
    assert all(isinstance(m, RenderedEmail) and not m.internal for m in (booked, moved, cancelled))
    assert booked.subject == ("Confirmation de votre rendez-vous du vendredi 17 avril 2026 à 08 h 30 "
                              "avec l'Agence Corniche")
    for line in ("Bonjour Marie Dupont,", "Date : 17 avril 2026", "Heure : 08:30", "Rendez-vous : par téléphone",
                 "Avec : Julie Martin, Agence Corniche", "Je vous appellerai au numéro de votre dossier",
                 "votre contrat Auto", "Message de service"):
        assert line in booked.text, line
    assert moved.subject == "Votre rendez-vous avec l'Agence Corniche est déplacé au lundi 20 avril 2026 à 08 h 30"
    assert "prévu le vendredi 17 avril 2026 à 08 h 30 est déplacé" in moved.text
    assert "Rendez-vous : à l'agence" in moved.text
    assert "Adresse : Promenade de la Corniche, 13007 Marseille" in moved.text
    assert cancelled.subject == ("Annulation de votre rendez-vous du lundi 20 avril 2026 à 08 h 30 "
                                 "avec l'Agence Corniche")
    assert "empêchement" not in cancelled.text  # the reason is for the trail, not the client
    for m in (booked, moved, cancelled):
        assert not LEFTOVERS.search(m.text + m.html) and "Julie Martin" in m.html
        assert m.list_unsubscribe is None  # a service message carries no marketing opt-out


def test_appointment_messages__the_time_is_the_clients_own_overseas(engine, now):
    case_id, adv = _case(engine, postal_code="97400", city="Saint-Denis", phone="+262692123456")
    at = datetime(2026, 4, 17, 6, 30, tzinfo=timezone.utc)  # 08:30 in Paris, 10:30 in Réunion
    _do(engine, case_id, BookAppointment(at, AppointmentChannel.VIDEO, True, adv), now)
    _, [mail] = _rendered(engine, case_id, now)
    assert "à 10 h 30" in mail.subject and "Heure : 10:30" in mail.text
    assert "Rendez-vous : en visioconférence" in mail.text and "lien de connexion" in mail.text


@pytest.fixture
def smtp():
    server = LoopbackSmtp()
    yield server
    server.stop()


def test_appointment_messages__delivered_to_a_client_opposed_to_email(engine, now, smtp, tmp_path):
    case_id, adv = _case(engine, opposition_email=True, email="opposant@example.fr")
    _do(engine, case_id, BookAppointment(AT, AppointmentChannel.PHONE, True, adv), now)
    smtp.start()
    summary = deliver_pending(engine, now, settings=Settings(smtp_port=smtp.port, smtp_timeout_s=5, data_dir=tmp_path))
    assert (summary.sent, summary.cancelled, summary.failed) == (1, 0, 0)
    [received] = smtp.handler.messages
    assert received.rcpt_tos == ["opposant@example.fr"]
    msg = email.message_from_bytes(received.content, policy=email.policy.default)
    assert msg["Subject"].startswith("Confirmation de votre rendez-vous du vendredi 17 avril 2026")
    with engine.connect() as conn:
        assert conn.execute(select(N.c.status)).scalar_one() == "sent"
