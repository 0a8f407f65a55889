"""Issue 7's "done when", through the API on a server set to a simulated date (M3_TODAY):
an inbound Saturday call, an appointment at 08:30 and the call made then, a note, the call script,
the gap suggestions with their reasons (one accepted, one dismissed), the bilan finished and its PDF.
Both databases."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from api import auth
from api.app import create_app
from api.roles import Role
from tests import factories as f

SATURDAY = "2026-11-21T10:00:00+01:00"  # the case is due Tue 24/11, its window opened on 17/11
MONDAY = "2026-11-23T08:40:00+01:00"


@pytest.fixture
def server(engine, monkeypatch):
    """`start(today)`: the app as `m3 serve` builds it with M3_TODAY set (no clock handed in)."""
    import config

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    auth.forget_all()
    clients = []

    def start(today: str) -> TestClient:
        monkeypatch.setenv("M3_TODAY", today)
        config.get_settings.cache_clear()
        client = TestClient(create_app(engine), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield start
    for c in clients:
        c.close()
    config.get_settings.cache_clear()


def _v(resp) -> int:
    return int(resp.headers["ETag"].strip('W/"'))


def test_api__call_walk_on_a_simulated_date(engine, server):
    with engine.begin() as conn:
        adv = f.advisor(conn, first_name="Margaret", last_name="Hebert", title="Chargée de clientèle")
        cl = f.client(conn, advisor_id=adv, civility="Mme", children_at_home=2, housing_status="tenant")
        k = f.contract(conn, cl, product="Auto", effective=date(2026, 8, 24))
        case_id = f.case(conn, cl, [k], adv, now=datetime(2026, 11, 1, 5, tzinfo=timezone.utc))
        _, token = auth.create_user(conn, "marie", Role.ADVISOR, "corniche", datetime(2026, 11, 1, tzinfo=timezone.utc),
                                    advisor_id=adv)
    h = {"Authorization": f"Bearer {token}"}
    base = f"/api/cases/{case_id}"

    # Saturday: the client rings. A solicitation now would be refused; an inbound call is recorded.
    sat = server("2026-11-21T10:00:00")
    r = sat.get(base, headers=h)
    assert r.status_code == 200 and r.headers["X-M3-Simulated-Date"].startswith("2026-11-21")
    v = _v(r)
    refused = sat.post(base + "/attempts", headers={**h, "If-Match": f'"{v}"'},
                       json={"channel": "phone", "outcome": "reached", "at": SATURDAY})
    assert refused.status_code == 422 and refused.json()["code"] == "calling_rules"
    r = sat.post(base + "/attempts", headers={**h, "If-Match": f'"{v}"'},
                 json={"channel": "phone", "outcome": "reached", "direction": "inbound", "at": SATURDAY})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "joint_rdv"
    v = _v(r)

    # The client prefers to talk on Monday at 08:30, before the D223-9 hours: an appointment.
    r = sat.post(base + "/appointments", headers={**h, "If-Match": f'"{v}"'},
                 json={"at": "2026-11-23T08:30:00+01:00", "channel": "phone", "client_agreed": True})
    assert r.status_code == 200, r.text
    v = _v(r)
    detail = sat.get(base, headers=h).json()
    appointment = detail["next_appointment"]
    assert appointment and appointment["at"].startswith("2026-11-23T07:30")  # stored in UTC

    # Monday 08:40: the call at the appointment is recorded although it is outside the hours.
    mon = server("2026-11-23T08:40:00")
    r = mon.post(base + "/attempts", headers={**h, "If-Match": f'"{v}"'},
                 json={"channel": "phone", "outcome": "reached", "basis": "appointment",
                       "appointment_id": appointment["id"], "at": "2026-11-23T08:31:00+01:00"})
    assert r.status_code == 200, r.text
    v = _v(r)
    r = mon.post(base + "/notes", headers={**h, "If-Match": f'"{v}"'}, json={"text": "Rappeler jeudi pour l'habitation"})
    assert r.status_code == 200, r.text
    v = _v(r)
    script = mon.get(base + "/script", headers=h).json()
    text = script["text"] if "text" in script else str(script)
    assert "Madame" in text and "Margaret" in text and "auto" in text.lower()

    # Fiche and contracts.
    def put(path, body, method="post"):
        nonlocal v
        resp = getattr(mon, method)(base + path, headers={**h, "If-Match": f'"{v}"'}, json=body)
        assert resp.status_code == 200, (path, resp.text)
        v = _v(resp)
        return resp.json()

    put("/assignment/confirm", {"agency_id": "corniche", "advisor_id": adv})
    assert put("/events/valider_fiche", None)["state"] == "fiche_validee"
    for req in mon.get(base, headers=h).json()["contracts"][0]["requirements"]:
        put(f"/contracts/{k}/requirements/{req['code']}", {"status": "validated"}, "put")
    assert put("/events/finaliser_contrats", None)["state"] == "contrats_finalises"

    # The bilan: the suggestions with their reasons; one accepted (with its devis), one dismissed.
    suggestions = mon.get(base + "/suggestions", headers=h).json()["suggestions"]
    codes = {s["code"]: s for s in suggestions}
    assert all(s["reason"] for s in suggestions)
    assert "habitation" in codes and "prevoyance" in " ".join(codes), sorted(codes)
    put("/suggestions/habitation/accept", {"client_decision": "accepted", "create_devis": {}})
    other = next(c for c in codes if c != "habitation")
    put(f"/suggestions/{other}/dismiss", {"reason": "déjà couvert par son employeur"})
    put("/nothing-elsewhere", {"value": True}, "put")
    assert put("/events/terminer_bilan", None)["state"] == "bilan_fait"

    bilans = mon.get(base + "/bilans", headers=h).json()
    seq = (bilans["bilans"] if isinstance(bilans, dict) else bilans)[0]["seq"]
    pdf = mon.get(f"{base}/bilans/{seq}.pdf", headers=h)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    trail = mon.get(base + "/audit", headers=h)
    assert trail.status_code in (200, 403)  # an advisor may not read the compliance export
