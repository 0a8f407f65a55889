"""Every route x every role x (own agency, other agency), from one table.

Writes carry a stale If-Match on purpose: a request that passes role and agency checks then
stops at 409 version_conflict, so the table proves the check without changing the cases.
Expected: OK (passes authorisation), FORBIDDEN (403: the role may never do it), HIDDEN (404:
the case or client of another agency, answered as if it did not exist).
"""
from __future__ import annotations

from tests.integration.api_support import api, case_in  # noqa: F401  (fixture)

OK, FORBIDDEN, HIDDEN = "ok", 403, 404
ROLES = ("advisor", "manager", "compliance", "admin")

# Role families: (own agency, other agency) per role.
READ = {"advisor": (OK, HIDDEN), "manager": (OK, HIDDEN), "compliance": (OK, OK), "admin": (OK, OK)}
WRITE = {"advisor": (OK, HIDDEN), "manager": (OK, HIDDEN), "compliance": (FORBIDDEN,) * 2, "admin": (OK, OK)}
REASSIGN = {"advisor": (FORBIDDEN,) * 2, "manager": (OK, HIDDEN), "compliance": (FORBIDDEN,) * 2, "admin": (OK, OK)}
EXPORT = {"advisor": (FORBIDDEN,) * 2, "manager": (OK, HIDDEN), "compliance": (OK, OK), "admin": (OK, OK)}
STATS = {"advisor": (FORBIDDEN,) * 2, "manager": (OK, FORBIDDEN), "compliance": (FORBIDDEN,) * 2,
         "admin": (OK, OK)}
ANY = {r: (OK, OK) for r in ROLES}

# (name, method, path template, json body, expectations). {case}, {client}, {contract},
# {action}, {advisor}, {agency} are filled from the case of the agency under test.
ROUTES = [
    ("me", "GET", "/api/me", None, ANY),
    ("list", "GET", "/api/cases", None, READ),
    ("case", "GET", "/api/cases/{case}", None, READ),
    ("event", "POST", "/api/cases/{case}/events/joindre", None, WRITE),
    ("client", "PATCH", "/api/cases/{case}/client", {"city": "Marseille"}, WRITE),
    ("confirm", "POST", "/api/cases/{case}/assignment/confirm", {"agency_id": "{agency}", "advisor_id": "{advisor}"},
     WRITE),
    ("attempt", "POST", "/api/cases/{case}/attempts", {"channel": "email", "outcome": "sent"}, WRITE),
    ("requirement", "PUT", "/api/cases/{case}/contracts/{contract}/requirements/dp", {"status": "received"}, WRITE),
    ("inventory", "POST", "/api/cases/{case}/inventory", {"family": "IARD", "product": "Auto", "held": "ailleurs"},
     WRITE),
    ("nothing", "PUT", "/api/cases/{case}/nothing-elsewhere", {"value": True}, WRITE),
    ("outcome", "POST", "/api/cases/{case}/outcomes", {"kind": "satisfied"}, WRITE),
    ("action", "POST", "/api/cases/{case}/actions", {"kind": "rdv", "due_date": "2026-05-04"}, WRITE),
    ("action_patch", "PATCH", "/api/cases/{case}/actions/{action}", {"status": "done"}, WRITE),
    # The bilan (api/routes/bilan.py)
    ("suggestions", "GET", "/api/cases/{case}/suggestions", None, READ),
    ("accept", "POST", "/api/cases/{case}/suggestions/sante/accept", {}, WRITE),
    ("dismiss", "POST", "/api/cases/{case}/suggestions/sante/dismiss", {"reason": "mutuelle d'entreprise"}, WRITE),
    ("outcome_patch", "PATCH", "/api/cases/{case}/outcomes/1", {"client_decision": "accepted"}, WRITE),
    ("prefill", "POST", "/api/cases/{case}/inventory/prefill", None, WRITE),
    ("bilans", "GET", "/api/cases/{case}/bilans", None, READ),
    ("bilan_send", "POST", "/api/cases/{case}/bilans/1/send", None, WRITE),
    ("reassign", "POST", "/api/cases/{case}/reassign", {"advisor_id": "{advisor}"}, REASSIGN),
    ("bulk", "POST", "/api/cases/reassign", {"items": [{"case_id": "{case}", "version": 99,
                                                        "advisor_id": "{advisor}"}]}, REASSIGN),
    ("audit", "GET", "/api/cases/{case}/audit", None, READ),
    ("audit_csv", "GET", "/api/cases/{case}/audit.csv", None, EXPORT),
    ("export", "GET", "/api/clients/{client}/export", None, EXPORT),
    ("stats", "GET", "/api/stats?agency={agency}", None, STATS),
]
USERS = {"advisor": "advisor", "manager": "manager", "compliance": "compliance", "admin": "admin"}


def _fill(value, ctx):
    if isinstance(value, str):
        for k, v in ctx.items():
            if value == "{" + k + "}" and isinstance(v, int):
                return v
            value = value.replace("{" + k + "}", str(v))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ctx) for v in value]
    return value


def _outcome(name: str, resp, ctx) -> object:
    if resp.status_code in (401, 403, 404, 422):
        return resp.status_code
    assert resp.status_code in (200, 409), (name, resp.status_code, resp.text)
    if name == "list":  # scoping of a list: the other agency's case is simply absent
        return OK if ctx["case"] in [c["id"] for c in resp.json()["items"]] else HIDDEN
    if name == "bulk":
        status = resp.json()["results"][0]["status"]
        return OK if status == 409 else status
    return OK


def test_api__scoping_table_every_route_role_and_agency(api):  # noqa: F811
    # One case in each agency, each with an action so the action route has a target.
    ctx = {}
    with api.engine.begin() as conn:
        for agency in ("corniche", "rouviere"):
            case_id, adv, cl, k = case_in(conn, agency)
            ctx[agency] = {"case": case_id, "advisor": adv, "client": cl, "contract": k, "agency": agency}
    for agency, c in ctx.items():
        r = api.client.post(f"/api/cases/{c['case']}/actions", json={"kind": "rdv", "owner_id": c["advisor"],
                                                                         "due_date": "2026-05-04"},
                            headers=api.h("admin", 1))
        assert r.status_code == 200, r.text
        c["action"] = api.client.get(f"/api/cases/{c['case']}", headers=api.h("admin")).json()["actions"][0]["id"]
    mismatches = []
    checked = 0
    for name, method, path, body, expect in ROUTES:
        for role in ROLES:
            for i, agency in enumerate(("corniche", "rouviere")):  # the users' own agency is Corniche
                c = ctx[agency]
                headers = api.h(USERS[role], 99)  # stale on purpose
                resp = api.client.request(method, _fill(path, c), json=_fill(body, c), headers=headers)
                got = _outcome(name, resp, c)
                checked += 1
                if got != expect[role][i]:
                    mismatches.append(f"{name} {role} {'own' if i == 0 else 'other'}: "
                                      f"expected {expect[role][i]}, got {got} ({resp.text[:120]})")
    assert not mismatches, "\n".join(mismatches)
    assert checked == len(ROUTES) * len(ROLES) * 2
    # Nothing changed: every write stopped at the stale version (2 = the set-up action).
    for c in ctx.values():
        assert api.client.get(f"/api/cases/{c['case']}", headers=api.h("admin")).json()["version"] == 2
