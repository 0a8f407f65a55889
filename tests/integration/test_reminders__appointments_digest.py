"""The advisor's daily digest lists the day's appointments by time and the missed ones still to
rebook (open cases only), on SQLite and PostgreSQL, and renders them in French."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from flows.clock import resolve
from flows.reminders import run_reminders
from notifications.render import render
from states.commands import BookAppointment, CancelAppointment, FireEvent
from states.records import AppointmentChannel
from store.snapshot import APPOINTMENT, CASE
from store.tables import Notification
from store.write_path import execute
from tests import factories as f

N = Notification.__table__
PARIS = ZoneInfo("Europe/Paris")
BOOKED_AT = datetime(2026, 4, 20, 8, 0, tzinfo=timezone.utc)


def _book(engine, case_id, at, adv, channel=AppointmentChannel.PHONE):
    with engine.connect() as conn:
        version = conn.execute(select(CASE.c.version).where(CASE.c.id == case_id)).scalar_one()
    execute(engine, case_id, version, BookAppointment(at, channel, True, adv), "user:test", BOOKED_AT)


def test_reminders__the_digest_lists_the_days_appointments_by_time_and_the_missed_ones(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn, name="Julie Martin", email="julie@agence.example")
        other = f.advisor(conn, email="autre@agence.example")
        cases = []
        for last, postal, phone in (("Durand", "13007", "+33612345678"), ("Petit", "13008", "+33611111111"),
                                    ("Hoarau", "97400", "+262692123456"), ("Bernard", "13009", "+33622222222"),
                                    ("Clos", "13001", "+33633333333")):
            cl = f.client(conn, advisor_id=adv, last_name=last, postal_code=postal, phone=phone)
            cases.append(f.case(conn, cl, [f.contract(conn, cl)], adv))
    durand, petit, hoarau, bernard, clos = cases
    thursday = date(2026, 4, 23)
    _book(engine, petit, datetime(2026, 4, 23, 14, 0, tzinfo=PARIS), adv)
    _book(engine, durand, datetime(2026, 4, 23, 8, 30, tzinfo=PARIS), adv)
    _book(engine, hoarau, datetime(2026, 4, 23, 10, 0, tzinfo=PARIS), adv, AppointmentChannel.VIDEO)
    _book(engine, bernard, datetime(2026, 4, 21, 9, 0, tzinfo=PARIS), adv)  # Tuesday, no call since: missed
    _book(engine, clos, datetime(2026, 4, 23, 11, 0, tzinfo=PARIS), other)  # another advisor's
    _book(engine, durand, datetime(2026, 4, 23, 16, 0, tzinfo=PARIS), adv)
    with engine.connect() as conn:
        last = conn.execute(select(APPOINTMENT.c.id).order_by(APPOINTMENT.c.id.desc())).first()[0]
        versions = dict(conn.execute(select(CASE.c.id, CASE.c.version)).all())
    execute(engine, durand, versions[durand], CancelAppointment(last, "doublon"), "user:test", BOOKED_AT)
    execute(engine, clos, versions[clos], FireEvent("classer_sans_suite", reason="doublon"), "user:test", BOOKED_AT)
    result = run_reminders(engine, *resolve(thursday))
    with engine.connect() as conn:
        digests = {r.recipient: r for r in conn.execute(select(N).where(N.c.kind == "advisor_digest"))}
        mine = digests["julie@agence.example"]
        payload = mine.payload
        assert [(a["time"], a["case_id"]) for a in payload["appointments_today"]] == [
            ("08:30", durand), ("10:00", hoarau), ("14:00", petit)]  # by time; the cancelled one left out
        hoarau_line = payload["appointments_today"][1]
        assert hoarau_line["client_time"] == "12:00" and hoarau_line["channel_label"] == "en visioconférence"
        assert payload["appointments_today"][0]["client_time"] is None
        assert payload["appointments_today"][0]["phone"] == "+33612345678"
        assert [(a["case_id"], a["date"], a["status"]) for a in payload["appointments_missed"]] == [
            (bernard, "21/04/2026", "missed")]
        assert "autre@agence.example" not in digests  # its only case is closed: nothing to list
        mail = render(conn, mine, resolve(thursday)[1])
    assert result.advisor_digests == 1
    assert "3 rendez-vous aujourd'hui" in mail.subject
    assert "Vos rendez-vous du jour (3) :\n- 08:30 · Marie Durand · par téléphone · +33612345678" in mail.text
    assert "- 10:00 · Marie Hoarau · en visioconférence (12:00 heure du client)" in mail.text
    assert "Rendez-vous manqués, à reprogrammer ou annuler (1) :\n- 21/04/2026 09:00 · Marie Bernard" in mail.text
    assert "Vos rendez-vous du jour (3)" in mail.html and "12:00 chez le client" in mail.html


def test_reminders__fridays_digest_lists_the_weekends_appointments_with_their_day(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn, email="julie@agence.example")
        cl = f.client(conn, advisor_id=adv)
        case_id = f.case(conn, cl, [f.contract(conn, cl)], adv)
    _book(engine, case_id, datetime(2026, 4, 25, 9, 0, tzinfo=PARIS), adv)  # Saturday, the client's choice
    _book(engine, case_id, datetime(2026, 4, 27, 10, 0, tzinfo=PARIS), adv)  # Monday: Monday's digest
    friday = date(2026, 4, 24)
    run_reminders(engine, *resolve(friday))
    with engine.connect() as conn:
        digest = conn.execute(select(N).where(N.c.kind == "advisor_digest")).one()
        mail = render(conn, digest, resolve(friday)[1])
    assert [(a["day"], a["time"]) for a in digest.payload["appointments_today"]] == [("sam. 25/04", "09:00")]
    assert "Vos rendez-vous d'ici le prochain jour ouvré (1) :\n- sam. 25/04 09:00 · Marie Dupont" in mail.text
