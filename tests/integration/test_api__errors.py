"""One error shape (RFC 9457) for every refusal: 401, 404, 405, 409, 412, 422, 428."""
from __future__ import annotations

from tests import factories as f
from tests.integration.api_support import api, assert_problem, case_in  # noqa: F401  (fixture)


def _case(api):  # noqa: F811
    with api.engine.begin() as conn:
        return f.ready_case(conn)[0]


def test_api__authentication_is_required_except_health(api):  # noqa: F811
    c = api.client
    assert c.get("/api/health").status_code == 200
    assert c.get("/api/ready").json()["status"] == "ready"
    r = c.get("/api/cases")
    assert_problem(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(c.get("/api/cases", headers={"Authorization": "Bearer m3_nope.secret"}), 401, "invalid_token")
    forged = api.tokens["advisor"].rsplit(".", 1)[0] + ".wrong-secret"
    assert_problem(c.get("/api/me", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")
    assert c.get("/api/me", headers=api.h("advisor")).json()["role"] == "advisor"


def test_api__unknown_case_and_route_are_404(api):  # noqa: F811
    assert_problem(api.client.get("/api/cases/999999", headers=api.h("admin")), 404, "case_not_found")
    r = api.client.post("/api/cases/999999/events/joindre", headers=api.h("admin", 1))
    assert_problem(r, 404, "case_not_found")
    assert_problem(api.client.get("/api/nowhere", headers=api.h("admin")), 404, "not_found")
    assert_problem(api.client.delete("/api/cases", headers=api.h("admin")), 405, "method_not_allowed")


def test_api__event_not_allowed_names_the_allowed_ones(api):  # noqa: F811
    case_id = _case(api)
    r = api.client.post(f"/api/cases/{case_id}/events/cloturer", headers=api.h("advisor", 1))
    body = assert_problem(r, 409, "event_not_allowed")
    assert body["state"] == "a_contacter" and "joindre" in body["allowed"]


def test_api__stale_version_is_409_with_the_current_one(api):  # noqa: F811
    case_id = _case(api)
    ok = api.client.post(f"/api/cases/{case_id}/events/joindre", headers=api.h("advisor", 1))
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    r = api.client.post(f"/api/cases/{case_id}/events/enregistrer_refus", headers=api.h("advisor", 1))
    body = assert_problem(r, 409, "version_conflict")
    assert body["current_version"] == 2 and body["expected_version"] == 1


def test_api__if_match_missing_is_428_and_unreadable_is_412(api):  # noqa: F811
    case_id = _case(api)
    assert_problem(api.client.post(f"/api/cases/{case_id}/events/joindre", headers=api.h("advisor")),
                   428, "if_match_required")
    r = api.client.post(f"/api/cases/{case_id}/events/joindre", headers=api.h("advisor", **{"If-Match": "abc"}))
    assert_problem(r, 412, "if_match_invalid")
    weak = api.client.post(f"/api/cases/{case_id}/events/joindre", headers=api.h("advisor", **{"If-Match": 'W/"1"'}))
    assert weak.status_code == 200


def test_api__unmet_guards_are_each_listed(api):  # noqa: F811
    with api.engine.begin() as conn:
        case_id, *_ = f.ready_case(conn, phone=None, email=None)
    api.client.post(f"/api/cases/{case_id}/events/joindre", headers=api.h("advisor", 1))
    r = api.client.post(f"/api/cases/{case_id}/events/valider_fiche", headers=api.h("advisor", 2))
    body = assert_problem(r, 422, "guard_failed")
    assert {u["code"] for u in body["unmet"]} >= {"phone", "email", "assignment"}
    r = api.client.post(f"/api/cases/{case_id}/events/classer_sans_suite", headers=api.h("advisor", 2))
    assert [u["code"] for u in assert_problem(r, 422, "guard_failed")["unmet"]] == ["reason"]


def test_api__invalid_payloads_name_each_field(api):  # noqa: F811
    case_id = _case(api)
    c = api.client
    r = c.post(f"/api/cases/{case_id}/attempts", json={"channel": "pigeon", "outcome": 3}, headers=api.h("advisor", 1))
    fields = {e["field"] for e in assert_problem(r, 422, "invalid_payload")["errors"]}
    assert fields == {"channel", "outcome"}
    r = c.patch(f"/api/cases/{case_id}/client", json={"phone": "0612", "email": "pas-un-email"},
                headers=api.h("advisor", 1))
    assert {e["field"] for e in assert_problem(r, 422, "invalid_change")["errors"]} == {"phone", "email"}
    r = c.patch(f"/api/cases/{case_id}/client", json={"shoe_size": 42}, headers=api.h("advisor", 1))
    assert [e["field"] for e in assert_problem(r, 422, "invalid_payload")["errors"]] == ["shoe_size"]
    r = c.post(f"/api/cases/{case_id}/events/nope", headers=api.h("advisor", 1))
    assert [e["field"] for e in assert_problem(r, 422, "invalid_payload")["errors"]] == ["event"]


def test_api__calling_rules_answer_with_their_reasons(api):  # noqa: F811
    case_id = _case(api)
    r = api.client.post(f"/api/cases/{case_id}/attempts",
                        json={"channel": "phone", "outcome": "no_answer", "at": "2026-04-11T10:00:00+02:00"},
                        headers=api.h("advisor", 1))
    body = assert_problem(r, 422, "calling_rules")
    assert body["reasons"] and any("samedi" in reason for reason in body["reasons"])


def test_api__bulk_reassign_answers_per_case(api):  # noqa: F811
    with api.engine.begin() as conn:
        own, *_ = f.ready_case(conn)
        stale, *_ = f.ready_case(conn)
        other, *_ = case_in(conn, "rouviere")
    target = api.advisors["corniche"]
    r = api.client.post("/api/cases/reassign", headers=api.h("manager"), json={"items": [
        {"case_id": own, "version": 1, "advisor_id": target},
        {"case_id": stale, "version": 7, "advisor_id": target},
        {"case_id": other, "version": 1, "advisor_id": target},
        {"case_id": 999999, "version": 1, "advisor_id": target},
    ]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["status"] for x in body["results"]] == [200, 409, 404, 404]
    assert body["results"][1]["problem"]["current_version"] == 1 and (body["ok"], body["failed"]) == (1, 3)


def test_api__session_cookie_reads_and_writes_with_csrf(api):  # noqa: F811
    case_id = _case(api)
    c = api.client
    opened = c.post("/api/session", json={"token": api.tokens["advisor"]})
    assert opened.status_code == 200
    assert c.get(f"/api/cases/{case_id}").status_code == 200
    assert_problem(c.post(f"/api/cases/{case_id}/events/joindre", headers={"If-Match": '"1"'}), 403, "csrf")
    r = c.post(f"/api/cases/{case_id}/events/joindre",
               headers={"If-Match": '"1"', "X-CSRF-Token": opened.json()["csrf_token"]})
    assert r.status_code == 200
    c.delete("/api/session")
    assert_problem(c.get(f"/api/cases/{case_id}"), 401, "unauthenticated")


def test_api__server_error_is_a_problem_and_logs_no_payload(api, caplog):  # noqa: F811
    def boom(case_id: int):
        raise RuntimeError("Marie Dupont +33612345678")

    api.client.app.add_api_route("/api/boom/{case_id}", boom)
    body = assert_problem(api.client.get("/api/boom/7"), 500, "internal_error")
    assert "Marie" not in body["detail"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "7" in logged and "Marie" not in logged
