"""The appointment routes and the calls that follow them, through the API, on SQLite and
PostgreSQL: book (RDV pris), the 08:30 call at the appointment, move, cancel, missed, errors."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from store.snapshot import APPOINTMENT, ATTEMPT, CASE, CLIENT
from store.tables import AuditRecord, Notification
from tests.integration.api_support import api, assert_problem, case_in  # noqa: F401

PARIS = ZoneInfo("Europe/Paris")
N = Notification.__table__
AUDIT = AuditRecord.__table__
FRIDAY_0830 = datetime(2026, 4, 17, 8, 30, tzinfo=PARIS)
UTC_0830 = "2026-04-17T06:30:00+00:00"  # as stored and carried in payloads


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def world(api, now):  # noqa: F811
    clock = Clock(now)
    api.client.app.state.clock = clock
    with api.engine.begin() as conn:
        case_id, adv, client_id, _ = case_in(conn, "corniche")
    return api, clock, case_id, adv, client_id


def _book(api, case_id, version, at=FRIDAY_0830, **extra):
    body = {"at": at.isoformat(), "channel": "phone", "client_agreed": True, **extra}
    return api.client.post(f"/api/cases/{case_id}/appointments", json=body, headers=api.h("advisor", version))


def _detail(api, case_id):
    r = api.client.get(f"/api/cases/{case_id}", headers=api.h("advisor"))
    assert r.status_code == 200, r.text
    return r.json()


def _notifications(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(N).where(N.c.case_id == case_id).order_by(N.c.id)).all()


def test_api_appointments__booking_is_rdv_pris_and_queues_the_confirmation(world):
    api, _, case_id, adv, _ = world
    r = _book(api, case_id, 1, advisor_id=adv)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["state"] == "joint_rdv" and out["version"] == 2 and out["action"] == "book_appointment"
    assert out["changes"]["case.state"] == ["a_contacter", "joint_rdv"]
    assert out["changes"]["notification.appointment_confirmation"][1].startswith("en file pour ")
    assert r.headers["ETag"] == '"2"'
    [note] = _notifications(api.engine, case_id)
    assert note.kind == "appointment_confirmation" and note.recipient == "marie.dupont@example.fr"
    assert note.payload["at"] == UTC_0830 and note.payload["advisor_id"] == adv
    detail = _detail(api, case_id)
    [appt] = detail["appointments"]
    assert appt["status"] == "scheduled" and appt["client_time"] == "ven. 17/04/2026 08:30"
    assert appt["channel_label"] == "par téléphone" and appt["advisor_id"] == adv
    assert detail["next_appointment"]["id"] == appt["id"]
    listed = api.client.get(f"/api/cases/{case_id}/appointments", headers=api.h("advisor")).json()
    assert [a["id"] for a in listed] == [appt["id"]]


def test_api_appointments__the_call_at_0830_is_recorded_and_marks_the_appointment_done(world):
    api, clock, case_id, adv, _ = world
    _book(api, case_id, 1, advisor_id=adv)
    appt_id = _detail(api, case_id)["appointments"][0]["id"]
    at = FRIDAY_0830 + timedelta(minutes=2)
    clock.at = at + timedelta(minutes=20)
    # Without its basis, the same call is a solicitation at 08:32: refused.
    refused = api.client.post(f"/api/cases/{case_id}/attempts", headers=api.h("advisor", 2),
                              json={"channel": "phone", "outcome": "reached", "at": at.isoformat()})
    assert "il est 08:32 chez le client" in assert_problem(refused, 422, "calling_rules")["reasons"][0]
    r = api.client.post(f"/api/cases/{case_id}/attempts", headers=api.h("advisor", 2),
                        json={"channel": "phone", "outcome": "reached", "at": at.isoformat(),
                              "basis": "appointment", "appointment_id": appt_id})
    assert r.status_code == 200, r.text
    assert r.json()["changes"][f"appointment.{appt_id}.status"] == ["scheduled", "done"]
    detail = _detail(api, case_id)
    assert detail["appointments"][0]["status"] == "done" and detail["next_appointment"] is None
    [attempt] = detail["attempts"]
    assert (attempt["direction"], attempt["basis"], attempt["appointment_id"]) == ("outbound", "appointment", appt_id)


def test_api_appointments__an_inbound_saturday_call_is_recorded(world):
    api, clock, case_id, adv, _ = world
    saturday = datetime(2026, 4, 18, 9, 15, tzinfo=PARIS)
    clock.at = saturday + timedelta(minutes=30)
    r = api.client.post(f"/api/cases/{case_id}/attempts", headers=api.h("advisor", 1),
                        json={"channel": "phone", "outcome": "reached", "at": saturday.isoformat(),
                              "direction": "inbound"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "joint_rdv"
    with api.engine.connect() as conn:
        reached_at = conn.execute(select(CASE.c.reached_at).where(CASE.c.id == case_id)).scalar_one()
        row = conn.execute(select(ATTEMPT).where(ATTEMPT.c.case_id == case_id)).one()
    assert reached_at == saturday and (row.direction, row.basis) == ("inbound", None)


def test_api_appointments__moving_audits_and_sends_an_updated_confirmation(world):
    api, _, case_id, adv, _ = world
    _book(api, case_id, 1, advisor_id=adv)
    appt_id = _detail(api, case_id)["appointments"][0]["id"]
    new_at = FRIDAY_0830 + timedelta(days=3, hours=9)
    r = api.client.patch(f"/api/cases/{case_id}/appointments/{appt_id}", headers=api.h("advisor", 2),
                         json={"at": new_at.isoformat(), "channel": "video", "reason": "préférence du client"})
    assert r.status_code == 200, r.text
    changes = r.json()["changes"]
    assert changes[f"appointment.{appt_id}.channel"] == ["phone", "video"]
    assert changes[f"appointment.{appt_id}.client_time"] == ["17/04/2026 08:30 (Europe/Paris)",
                                                             "20/04/2026 17:30 (Europe/Paris)"]
    with api.engine.connect() as conn:
        row = conn.execute(select(APPOINTMENT).where(APPOINTMENT.c.id == appt_id)).one()
        trail = conn.execute(select(AUDIT.c.action, AUDIT.c.reason).where(AUDIT.c.case_id == case_id)
                             .order_by(AUDIT.c.seq)).all()
    assert (row.at, row.channel, row.status) == (new_at, "video", "scheduled")
    assert [tuple(t) for t in trail][-2:] == [("book_appointment", None), ("move_appointment", "préférence du client")]
    notes = _notifications(api.engine, case_id)
    assert [n.kind for n in notes] == ["appointment_confirmation", "appointment_confirmation"]
    assert notes[1].payload["update"] is True and notes[1].payload["previous_at"] == UTC_0830


def test_api_appointments__cancelling_needs_a_reason_and_sends_a_notice(world):
    api, _, case_id, adv, _ = world
    _book(api, case_id, 1, advisor_id=adv)
    appt_id = _detail(api, case_id)["appointments"][0]["id"]
    url = f"/api/cases/{case_id}/appointments/{appt_id}/cancel"
    assert_problem(api.client.post(url, headers=api.h("advisor", 2), json={}), 422, "invalid_payload")
    assert_problem(api.client.post(url, headers=api.h("advisor", 2), json={"reason": "  "}), 422, "invalid_change")
    r = api.client.post(url, headers=api.h("advisor", 2), json={"reason": "le client a un empêchement"})
    assert r.status_code == 200, r.text
    detail = _detail(api, case_id)
    assert detail["appointments"][0]["status"] == "cancelled" and detail["next_appointment"] is None
    assert detail["appointments"][0]["cancel_reason"] == "le client a un empêchement"
    assert [n.kind for n in _notifications(api.engine, case_id)] == ["appointment_confirmation",
                                                                     "appointment_cancellation"]
    # A cancelled appointment is no basis for a call any more, and cannot be moved.
    again = api.client.patch(f"/api/cases/{case_id}/appointments/{appt_id}", headers=api.h("advisor", 3),
                             json={"at": (FRIDAY_0830 + timedelta(days=1)).isoformat()})
    assert assert_problem(again, 422, "invalid_change")["errors"][0]["field"] == "appointment_id"


def test_api_appointments__an_appointment_past_its_time_without_a_call_shows_as_missed(world):
    api, clock, case_id, adv, _ = world
    _book(api, case_id, 1, advisor_id=adv)
    clock.at = FRIDAY_0830 + timedelta(hours=2)  # within the tolerance (2 h): still the next one
    assert _detail(api, case_id)["appointments"][0]["status"] == "scheduled"
    clock.at = FRIDAY_0830 + timedelta(hours=2, minutes=1)
    detail = _detail(api, case_id)
    assert detail["appointments"][0]["status"] == "missed" and detail["appointments"][0]["status_label"] == "manqué"
    assert detail["next_appointment"] is None
    with api.engine.connect() as conn:  # derived, never stored
        assert conn.execute(select(APPOINTMENT.c.status)).scalar_one() == "scheduled"


def test_api_appointments__the_confirmation_is_queued_even_for_a_client_opposed_to_email(world):
    api, _, case_id, adv, client_id = world
    with api.engine.begin() as conn:
        conn.execute(update(CLIENT).where(CLIENT.c.id == client_id).values(opposition_email=True))
    assert _book(api, case_id, 1, advisor_id=adv).status_code == 200
    assert [n.kind for n in _notifications(api.engine, case_id)] == ["appointment_confirmation"]


def test_api_appointments__without_an_email_the_booking_stands_and_says_no_confirmation_left(world):
    api, _, case_id, adv, client_id = world
    with api.engine.begin() as conn:
        conn.execute(update(CLIENT).where(CLIENT.c.id == client_id).values(email=None))
    r = _book(api, case_id, 1, advisor_id=adv)
    assert r.status_code == 200
    assert r.json()["changes"]["notification.appointment_confirmation"] == [None, "non envoyé : email manquant"]
    assert _notifications(api.engine, case_id) == []


def test_api_appointments__the_advisor_defaults_to_the_users_own(world):
    api, _, case_id, _, _ = world
    assert _book(api, case_id, 1).status_code == 200
    assert _detail(api, case_id)["appointments"][0]["advisor_id"] == api.advisors["corniche"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"client_agreed": False}, 422, "invalid_change"),
    ({"at": "2026-04-15T08:00:00+00:00"}, 422, "invalid_change"),  # in the past
    ({"at": "2026-04-17T08:30:00"}, 422, "invalid_payload"),  # no time zone
    ({"channel": "pigeon"}, 422, "invalid_payload"),
    ({"client_agreed": None}, 422, "invalid_payload"),
], ids=["no-agreement", "past", "naive", "channel", "agreement-missing"])
def test_api_appointments__refused_bookings_are_problems_and_write_nothing(world, body, status, code):
    api, _, case_id, _, _ = world
    payload = {"at": FRIDAY_0830.isoformat(), "channel": "phone", "client_agreed": True, **body}
    if body.get("client_agreed", True) is None:
        payload.pop("client_agreed")
    r = api.client.post(f"/api/cases/{case_id}/appointments", json=payload, headers=api.h("advisor", 1))
    assert_problem(r, status, code)
    with api.engine.connect() as conn:
        assert conn.execute(select(APPOINTMENT)).all() == []
        assert conn.execute(select(CASE.c.version).where(CASE.c.id == case_id)).scalar_one() == 1


def test_api_appointments__if_match_scope_and_stale_versions(world):
    api, _, case_id, adv, _ = world
    body = {"at": FRIDAY_0830.isoformat(), "channel": "phone", "client_agreed": True}
    url = f"/api/cases/{case_id}/appointments"
    assert_problem(api.client.post(url, json=body, headers=api.h("advisor")), 428, "if_match_required")
    assert_problem(api.client.post(url, json=body, headers=api.h("advisor_rouviere", 1)), 404, "case_not_found")
    assert_problem(api.client.post(url, json=body, headers=api.h("compliance", 1)), 403, "forbidden")
    assert_problem(api.client.post(url, json=body, headers=api.h("advisor", 7)), 409, "version_conflict")
    other = api.advisors["rouviere"]
    r = api.client.post(url, json={**body, "advisor_id": other}, headers=api.h("advisor", 1))
    assert "appartient à l'agence rouviere" in assert_problem(r, 422, "invalid_change")["errors"][0]["message"]


def test_api_appointments__a_refusal_closes_the_case_and_leaves_the_pieces_action_completable(world):
    api, clock, case_id, adv, _ = world
    r = api.client.post(f"/api/cases/{case_id}/attempts", headers=api.h("advisor", 1),
                        json={"channel": "phone", "outcome": "refused"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cloture" and r.json()["changes"]["case.closing_reason"] == [None, "refus"]
    detail = _detail(api, case_id)
    assert detail["case"]["closing_reason"] == "refus" and detail["case"]["closed_at"]
    [action] = detail["actions"]
    assert action["kind"] == "pieces" and action["status"] == "open" and action["owner_id"] == adv
    assert action["label"].startswith("Pièces à obtenir : Auto (")
    blocked = api.client.patch(f"/api/cases/{case_id}/actions/{action['id']}", headers=api.h("advisor", 2),
                               json={"status": "cancelled"})
    assert_problem(blocked, 422, "invalid_change")
    done = api.client.patch(f"/api/cases/{case_id}/actions/{action['id']}", headers=api.h("advisor", 2),
                            json={"status": "done"})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "cloture"


def test_api_appointments__openapi_documents_the_routes_in_french(world):
    api, *_ = world
    paths = api.client.get("/openapi.json").json()["paths"]
    booking = paths["/api/cases/{case_id}/appointments"]["post"]
    assert booking["summary"] == "Prendre un rendez-vous accepté par le client"
    assert paths["/api/cases/{case_id}/appointments/{appointment_id}"]["patch"]["summary"].startswith("Déplacer")
    assert paths["/api/cases/{case_id}/appointments/{appointment_id}/cancel"]["post"]["summary"].startswith("Annuler")
