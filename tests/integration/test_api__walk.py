"""A case from "à contacter" to "clôturé", entirely through HTTP, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

from tests import factories as f
from tests.integration.api_support import api  # noqa: F401  (fixture)


def _etag(resp) -> int:
    return int(resp.headers["ETag"].strip('W/"'))


def test_api__walks_a_case_from_a_contacter_to_cloture(api, now):  # noqa: F811
    with api.engine.begin() as conn:
        case_id, adv, client_id, contract_id = f.ready_case(conn)
    c = api.client
    base = f"/api/cases/{case_id}"

    r = c.get(base, headers=api.h("advisor"))
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["case"]["state"] == "a_contacter" and _etag(r) == 1
    assert {e["event"] for e in detail["events"]} >= {"joindre", "envoyer_email", "declarer_injoignable"}
    assert any(not i["ok"] and i["field"] == "assignment" for i in detail["fiche"])

    def post(path, body, method="post"):
        nonlocal version
        resp = getattr(c, method)(base + path, json=body, headers=api.h("advisor", version))
        assert resp.status_code == 200, resp.text
        version = _etag(resp)
        assert resp.json()["version"] == version
        return resp.json()

    version = 1
    out = post("/attempts", {"channel": "phone", "outcome": "reached"})
    assert out["state"] == "joint_rdv"
    post("/assignment/confirm", {"agency_id": "corniche", "advisor_id": adv})
    assert post("/events/valider_fiche", None)["state"] == "fiche_validee"

    contracts = c.get(base, headers=api.h("advisor")).json()["contracts"]
    for req in contracts[0]["requirements"]:
        post(f"/contracts/{contract_id}/requirements/{req['code']}", {"status": "validated"}, "put")
    assert post("/events/finaliser_contrats", None)["state"] == "contrats_finalises"

    post("/inventory", {"family": "IARD", "product": "Habitation", "held": "ailleurs", "insurer": "MAIF"})
    post("/outcomes", {"kind": "complementary_need", "detail": "devis habitation", "client_decision": "accepted"})
    assert post("/events/terminer_bilan", None)["state"] == "bilan_fait"

    post("/actions", {"kind": "devis", "due_date": date(2026, 4, 30).isoformat(), "label": "Devis MRH"})
    assert post("/events/planifier_actions", None)["state"] == "actions_planifiees"
    action_id = c.get(base, headers=api.h("advisor")).json()["actions"][0]["id"]
    post(f"/actions/{action_id}", {"status": "done"}, "patch")
    out = post("/events/cloturer", {"reason": "client complet"})
    assert out["state"] == "cloture" and out["state_label"] == "Clôturé"

    final = c.get(base, headers=api.h("advisor")).json()
    assert final["case"]["closing_reason"] == "complet" and final["events"] == []
    trail = c.get(base + "/audit", headers=api.h("compliance")).json()["records"]
    assert [r["seq"] for r in trail] == list(range(1, version + 1))
    assert all(r["actor"] == "user:advisor" for r in trail[1:])
    csv = c.get(base + "/audit.csv", headers=api.h("compliance"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("seq,at,actor,action")
    export = c.get(f"/api/clients/{client_id}/export", headers=api.h("compliance")).json()
    assert export["client"]["id"] == client_id and len(export["cases"][0]["audit"]) == version
    stats = c.get("/api/stats", headers=api.h("manager")).json()
    assert stats["totals"]["cases"] == 1 and stats["totals"]["by_state"] == {"cloture": 1}
    assert stats["totals"]["reach_rate"] == 1.0 and stats["totals"]["documents_completeness"] == 1.0
    assert stats["totals"]["opportunities"] == 1
