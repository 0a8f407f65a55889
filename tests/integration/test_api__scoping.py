"""Every route of the app, JSON API and pages, tried as an intruder and as each role, from one table.

ROUTES holds every route the app serves, by method and path template as `app.routes` declares
them: `test_api__scoping_table_lists_every_route_of_the_app` reads the app's own routes and
fails when one is missing from the table (or when the table names a route the app no longer has).

Each route is tried:
- without a valid login (`test_api__scoping_without_a_valid_login`): no credential, a bad token,
  a revoked user's token, a session cookie signed with another secret, a well-signed cookie that
  is no session, a session whose user id is not a number, and a session idle for longer than
  M3_SESSION_IDLE_HOURS. A JSON route answers 401, a page sends the browser to the login page
  (303 to /connexion); a public route answers what it answers anyone (`anon`);
- as each role (`test_api__scoping_by_role_and_agency`: a bearer token on the JSON API, a session
  opened with that token on the pages), on an object (case, client, advisor) of the user's own
  agency and of another agency.

Writes carry a stale version on purpose (If-Match "99", or the form's hidden version): a request
that passes the role and agency checks stops at 409 version_conflict, so the table proves the
checks without changing the cases. Other writes send what their route refuses only after the
checks (an empty file, an unknown successor, no letter ticked...), so nothing changes either.

Outcomes: OK (went past the checks: a status of the route's `ok`), FORBIDDEN (403: the role may
never do it), HIDDEN (404 case_not_found / client_not_found, or absent from a list: another
agency's object answers as if it did not exist), LOGIN (303 to the login page), else the status.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

import pytest
from argon2 import PasswordHasher
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from selectolax.lexbor import LexborHTMLParser
from starlette.routing import Mount

from api import auth, sessions
from api.app import create_app
from api.pages import case as case_page
from api.roles import Role
from tests.integration.api_support import case_in

OK, FORBIDDEN, HIDDEN, LOGIN = "ok", 403, 404, "login"
ROLES = ("advisor", "manager", "compliance", "admin")  # the users' own agency is Corniche
SECRET = "s" * 48
F2 = (FORBIDDEN, FORBIDDEN)

# Role families: (own agency, other agency) per role.
ANY = {r: (OK, OK) for r in ROLES}
READ = {"advisor": (OK, HIDDEN), "manager": (OK, HIDDEN), "compliance": (OK, OK), "admin": (OK, OK)}
WRITE = {"advisor": (OK, HIDDEN), "manager": (OK, HIDDEN), "compliance": F2, "admin": (OK, OK)}
REASSIGN = {"advisor": F2, "manager": (OK, HIDDEN), "compliance": F2, "admin": (OK, OK)}  # also advisors.manage
EXPORT = {"advisor": F2, "manager": (OK, HIDDEN), "compliance": (OK, OK), "admin": (OK, OK)}
STATS = {"advisor": F2, "manager": (OK, FORBIDDEN), "compliance": F2, "admin": (OK, OK)}
MANAGER = {"advisor": F2, "manager": (OK, OK), "compliance": F2, "admin": (OK, OK)}  # agency-wide pages
COMPLIANCE = {"advisor": F2, "manager": F2, "compliance": (OK, OK), "admin": (OK, OK)}


@dataclass(frozen=True)
class R:
    """One route of the table. `path` is the template exactly as the app declares it; its
    {placeholders} are filled from the object under test (case_id, client_id, contract_id,
    action_id, advisor_id, agency) and from `fill`; `query` is appended. `body`: JSON for the
    API, form fields for a page (CSRF token added). `anon`: what a public route answers to no
    or a bad credential (a private one: 401 for the API, LOGIN for a page)."""

    name: str
    method: str
    path: str
    expect: dict[str, tuple]
    body: Any = None
    fill: dict[str, str] = field(default_factory=dict)
    query: str = ""
    ok: tuple = ()
    anon: tuple | None = None
    files: dict | None = None
    check: Callable | None = None  # (response, object under test) -> outcome, once past the checks
    url: str | None = None  # a mount's file

    @property
    def page(self) -> bool:
        return not self.path.startswith("/api/")

    @property
    def accepted(self) -> tuple:
        if self.ok:
            return self.ok
        if self.page:
            return (409,) if self.path == "/dossiers/{case_id}/{name}" else (200,)
        return (200, 204, 409)


def _html(resp) -> LexborHTMLParser:
    return LexborHTMLParser(resp.text)


def _listed_json(resp, c):  # a list of cases: the other agency's case is simply absent
    return OK if c["case_id"] in [x["id"] for x in resp.json()["items"]] else HIDDEN


def _bulk_json(resp, c):
    status = resp.json()["results"][0]["status"]
    return OK if status == 409 else status


def _selector(css: str):
    def check(resp, c):
        return OK if _html(resp).css_first(_fill(css, c)) is not None else HIDDEN
    return check


def _reassigned_page(resp, c):
    item = _html(resp).css_first(f'li[data-case="{c["case_id"]}"]')
    if item is None:
        return "no result"
    if "stale" in item.attributes.get("class", ""):
        return OK
    return HIDDEN if "introuvable" in item.text() else item.text()


def _deactivate_page(resp, c):  # an unknown successor: refused after the advisor was found, or not found
    if "doit être de votre agence" in resp.text:
        return OK
    return HIDDEN if "introuvable dans votre agence" in resp.text else resp.status_code


DAY = "2026-04-15"
APPOINTMENT = {"at": "2026-04-20T08:00:00Z", "channel": "phone", "client_agreed": True}
PAGE_FORMS = {  # each action of the case page (api/pages/case.py ACTIONS), with a valid form
    "fiche": {"city": "Aix-en-Provence"},
    "affectation": {"agency_id": "corniche", "advisor_id": "{advisor_id}"},
    "appel": {"outcome": "no_answer"},
    "rdv": {"date": "2026-04-20", "time": "10:00", "channel": "phone", "client_agreed": "on"},
    "rdv-deplacer": {"appointment_id": "1", "date": "2026-04-21", "time": "10:00"},
    "rdv-annuler": {"appointment_id": "1", "reason": "empêchement"},
    "piece": {"contract_id": "{contract_id}", "code": "dp", "status": "received"},
    "inventaire": {"family": "IARD", "product": "Habitation", "held": "ailleurs"},
    "rien-ailleurs": {"value": "on"},
    "resultat": {"kind": "satisfied"},
    "action": {"kind": "rdv", "due_date": "2026-05-04", "owner_id": "{advisor_id}"},
    "action-maj": {"action_id": "{action_id}", "status": "done"},
    "etape": {"event": "joindre"},
    "note": {"text": "rappeler après 18 h"},
    "sujet": {"kind": "question", "occurred_on": "2026-03-01", "summary": "franchise auto"},
    "sujet-reponse": {"topic_id": "1", "answer": "500 €"},
    "resultat-maj": {"outcome_id": "1", "client_decision": "accepted"},
    "suggestion-retenir": {"code": "sante"},
    "suggestion-ecarter": {"code": "sante", "reason": "mutuelle d'entreprise"},
    "inventaire-contrats": {},
    "bilan-envoyer": {"seq": "1"},
}
C = "/api/cases/{case_id}"
ROUTES = [
    # ---- the JSON API (api/routes/)
    R("health", "GET", "/api/health", ANY, anon=(200,)),
    R("ready", "GET", "/api/ready", ANY, anon=(200,)),
    R("me", "GET", "/api/me", ANY),
    R("session_open", "POST", "/api/session", ANY, {"token": "{token}"}, anon=(401,)),
    R("session_close", "DELETE", "/api/session", ANY, anon=(204,)),
    R("list", "GET", "/api/cases", READ, check=_listed_json),
    R("case", "GET", C, READ),
    R("event", "POST", C + "/events/{event}", WRITE, fill={"event": "joindre"}),
    R("client", "PATCH", C + "/client", WRITE, {"city": "Marseille"}),
    R("confirm", "POST", C + "/assignment/confirm", WRITE, {"agency_id": "{agency}", "advisor_id": "{advisor_id}"}),
    R("attempt", "POST", C + "/attempts", WRITE, {"channel": "email", "outcome": "sent"}),
    R("requirement", "PUT", C + "/contracts/{contract_id}/requirements/{code}", WRITE, {"status": "received"},
      fill={"code": "dp"}),
    R("inventory", "POST", C + "/inventory", WRITE, {"family": "IARD", "product": "Auto", "held": "ailleurs"}),
    R("nothing", "PUT", C + "/nothing-elsewhere", WRITE, {"value": True}),
    R("outcome", "POST", C + "/outcomes", WRITE, {"kind": "satisfied"}),
    R("action", "POST", C + "/actions", WRITE, {"kind": "rdv", "due_date": "2026-05-04"}),
    R("action_patch", "PATCH", C + "/actions/{action_id}", WRITE, {"status": "done"}),
    R("reassign", "POST", C + "/reassign", REASSIGN, {"advisor_id": "{advisor_id}"}),
    R("bulk", "POST", "/api/cases/reassign", REASSIGN,
      {"items": [{"case_id": "{case_id}", "version": 99, "advisor_id": "{advisor_id}"}]}, check=_bulk_json),
    R("audit", "GET", C + "/audit", READ),
    R("audit_csv", "GET", C + "/audit.csv", EXPORT),
    R("export", "GET", "/api/clients/{client_id}/export", EXPORT),
    R("stats", "GET", "/api/stats", STATS, query="?agency={agency}"),
    R("appointments", "GET", C + "/appointments", READ),
    R("appointment_book", "POST", C + "/appointments", WRITE, APPOINTMENT),
    R("appointment_move", "PATCH", C + "/appointments/{appointment_id}", WRITE, {"reason": "empêchement"},
      fill={"appointment_id": "1"}),
    R("appointment_cancel", "POST", C + "/appointments/{appointment_id}/cancel", WRITE, {"reason": "empêchement"},
      fill={"appointment_id": "1"}),
    R("notes", "GET", C + "/notes", READ),
    R("note", "POST", C + "/notes", WRITE, {"text": "rappeler après 18 h"}),
    R("topic", "POST", C + "/topics", WRITE, {"kind": "question", "summary": "franchise auto"}),
    R("topic_answer", "POST", C + "/topics/{topic_id}/answer", WRITE, {"answer": "500 €"}, fill={"topic_id": "1"}),
    R("script", "GET", C + "/script", READ),
    R("suggestions", "GET", C + "/suggestions", READ),
    R("accept", "POST", C + "/suggestions/{code}/accept", WRITE, {}, fill={"code": "sante"}),
    R("dismiss", "POST", C + "/suggestions/{code}/dismiss", WRITE, {"reason": "mutuelle d'entreprise"},
      fill={"code": "sante"}),
    R("outcome_patch", "PATCH", C + "/outcomes/{outcome_id}", WRITE, {"client_decision": "accepted"},
      fill={"outcome_id": "1"}),
    R("prefill", "POST", C + "/inventory/prefill", WRITE),
    R("bilans", "GET", C + "/bilans", READ),
    # No bilan frozen yet: past the checks, the bilan itself is not found (bilan_not_found, not case_not_found).
    R("bilan_pdf", "GET", C + "/bilans/{seq}.pdf", READ, fill={"seq": "1"}, ok=(404,)),
    R("bilan", "GET", C + "/bilans/{seq}", READ, fill={"seq": "1"}, ok=(404,)),
    R("bilan_send", "POST", C + "/bilans/{seq}/send", WRITE, fill={"seq": "1"}),
    # ---- the API's documentation, static files: public
    R("openapi", "GET", "/openapi.json", ANY, anon=(200,)),
    R("docs", "GET", "/docs", ANY, anon=(200,)),
    R("docs_oauth2", "GET", "/docs/oauth2-redirect", ANY, anon=(200,)),
    R("redoc", "GET", "/redoc", ANY, anon=(200,)),
    R("docs_files", "GET", "/static-offline-docs", ANY, anon=(200,), url="/static-offline-docs/swagger-ui.css"),
    R("static", "GET", "/static", ANY, anon=(200,), url="/static/m3.css"),
    # ---- login and the account (api/pages/login.py, account.py)
    R("home", "GET", "/", ANY, ok=(303,), anon=(LOGIN,)),  # a user goes to their home page
    R("login_form", "GET", "/connexion", ANY, ok=(303,), anon=(200,)),
    # A wrong password (401); without the session's CSRF token, 403.
    R("login", "POST", "/connexion", ANY, {"username": "intrus", "password": "pas le bon"}, ok=(401,),
      anon=(401, 403)),
    # Logging out leads to the login page; an intruder without a CSRF token gets 403.
    R("logout", "POST", "/deconnexion", {r: (LOGIN, LOGIN) for r in ROLES}, {}, anon=(403, LOGIN)),
    R("account", "GET", "/compte", ANY),
    R("password", "POST", "/compte/mot-de-passe", ANY,  # a token user has no password: "incorrect", 422
      {"old_password": "pas le bon", "new_password": "un nouveau mot de passe",
       "new_password_again": "un nouveau mot de passe"}, ok=(422,)),
    # ---- the advisors' pages (api/pages/dossiers.py, case.py)
    R("dossiers", "GET", "/dossiers", READ, query="?perimetre=agence",
      check=_selector('a[href="/dossiers/{case_id}"]')),
    R("dossier", "GET", "/dossiers/{case_id}", READ),
    *[R(f"dossier_{name}", "POST", "/dossiers/{case_id}/{name}", WRITE, form, fill={"name": name})
      for name, form in PAGE_FORMS.items()],
    # ---- the manager's pages (api/pages/manager.py)
    R("manager", "GET", "/manager", MANAGER),
    R("reassign_page", "GET", "/manager/reassigner", REASSIGN,
      check=_selector('input[name="dossier"][value="{case_id}"]')),
    R("reassign_form", "POST", "/manager/reassigner", REASSIGN,
      {"dossier": "{case_id}", "version_{case_id}": "99", "conseiller": "{advisor_id}"}, check=_reassigned_page),
    R("advisors_page", "GET", "/manager/conseillers", REASSIGN,
      check=_selector('form[action="/manager/conseillers/{advisor_id}/desactiver"]')),
    R("deactivate", "POST", "/manager/conseillers/{advisor_id}/desactiver", REASSIGN, {"repreneur": "999999"},
      ok=(422,), check=_deactivate_page),
    R("import_page", "GET", "/manager/import", MANAGER),
    R("import", "POST", "/manager/import", MANAGER, {}, ok=(422,),  # an empty file
      files={"fichier": ("export.csv", b"", "text/csv")}),
    R("corrections", "GET", "/manager/corrections", MANAGER),
    R("corrections_export", "POST", "/manager/corrections/export", MANAGER, {}, ok=(303,)),  # nothing to export
    R("corrections_again", "GET", "/manager/corrections/export-{stamp}.csv", MANAGER,
      fill={"stamp": "2026-04-01T00:00:00+00:00"}, ok=(404,)),  # no such export
    R("letters", "GET", "/manager/courriers", MANAGER),
    R("letters_pdf", "GET", "/manager/courriers/{day}.pdf", MANAGER, fill={"day": DAY}, ok=(404,)),  # none that day
    R("letters_posted", "POST", "/manager/courriers/{day}/poster", MANAGER, {"date_depot": DAY}, fill={"day": DAY},
      ok=(303,)),  # no letter ticked
    # ---- the compliance pages (api/pages/compliance.py)
    R("compliance", "GET", "/conformite", COMPLIANCE),
    R("compliance_client", "GET", "/conformite/clients/{client_id}", COMPLIANCE),
    R("compliance_export", "GET", "/conformite/clients/{client_id}/export.json", EXPORT),
    R("access_request", "POST", "/conformite/clients/{client_id}/demandes", COMPLIANCE, {"canal": "courrier"},
      ok=(422,)),  # no date of receipt
    R("access_answered", "POST", "/conformite/demandes/{request_id}/repondue", COMPLIANCE, {},
      fill={"request_id": "999999"}, ok=(303,)),  # no such request
    R("compliance_trail", "GET", "/conformite/dossiers/{case_id}", COMPLIANCE),
    # ---- the opt-out link (api/pages/optout.py): public, authorised by its signature; a forged one, 400
    R("optout_page", "GET", "/desinscription/{token}", ANY, fill={"token": "m3.forged.link"}, ok=(400,), anon=(400,)),
    R("optout", "POST", "/desinscription/{token}", ANY, {}, fill={"token": "m3.forged.link"}, ok=(400,),
      anon=(400,)),
]


def _fill(value, ctx: dict[str, Any]):
    if isinstance(value, str):
        for k, v in ctx.items():
            if value == "{" + k + "}" and isinstance(v, int):
                return v
            value = value.replace("{" + k + "}", str(v))
        return value
    if isinstance(value, dict):
        return {_fill(k, ctx): _fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ctx) for v in value]
    return value


# ---------------------------------------------------------------- the world: users, sessions, objects
@dataclass
class Credential:
    token: str | None = None  # bearer token (JSON API)
    cookie: str | None = None  # m3_session (pages; the API accepts it too)
    csrf: str | None = None


@dataclass
class World:
    app: Any
    client: TestClient
    objects: dict[str, dict[str, Any]]  # agency -> the ids filling the templates
    users: dict[str, Credential]
    intruders: dict[str, Credential]

    def send(self, route: R, cred: Credential, agency: str):
        ctx = {**self.objects[agency], **route.fill, "token": cred.token or "m3_0123456789abcdef.pas-un-jeton"}
        url = route.url or _fill(route.path, ctx) + _fill(route.query, ctx)
        headers = {}
        if cred.token and not route.page:
            headers["Authorization"] = f"Bearer {cred.token}"
        if cred.csrf and not route.page:
            headers["X-CSRF-Token"] = cred.csrf
        if not route.page:
            headers["If-Match"] = '"99"'  # stale on purpose
        self.client.cookies.clear()
        if cred.cookie:
            self.client.cookies.set("m3_session", cred.cookie)
        kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
        if route.page and route.method == "POST":
            form = _fill(route.body or {}, ctx)
            if cred.csrf:
                form["csrf_token"] = cred.csrf
            if route.path == "/dossiers/{case_id}/{name}":
                form["version"] = "99"
            kwargs["data"] = form
            if route.files:
                kwargs["files"] = route.files
        elif route.body is not None:
            kwargs["json"] = _fill(route.body, ctx)
        return self.client.request(route.method, url, **kwargs)


def _signed(payload: bytes, secret: str = SECRET) -> str:
    return TimestampSigner(secret).sign(base64.b64encode(payload)).decode()


@pytest.fixture
def world(engine, now: datetime, monkeypatch) -> World:
    import config

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    monkeypatch.setenv("M3_SESSION_SECRET", SECRET)
    monkeypatch.delenv("M3_TODAY", raising=False)
    # The table sends hundreds of bad credentials on purpose; the rate limits have their own tests.
    for var in ("M3_TOKEN_LIMIT_ID", "M3_TOKEN_LIMIT_ADDRESS", "M3_LOGIN_LIMIT_USER", "M3_LOGIN_LIMIT_ADDRESS"):
        monkeypatch.setenv(var, "100000 per 5 minutes")
    config.get_settings.cache_clear()
    auth.forget_all()
    app = create_app(engine, clock=lambda: now)
    client = TestClient(app, raise_server_exceptions=False)
    objects, tokens, ids = {}, {}, {}
    with engine.begin() as conn:
        for agency in ("corniche", "rouviere"):
            case_id, adv, cl, k = case_in(conn, agency)
            objects[agency] = {"case_id": case_id, "advisor_id": adv, "client_id": cl, "contract_id": k,
                               "agency": agency}
        specs = [("admin", Role.ADMIN, None), ("compliance", Role.COMPLIANCE, None),
                 ("manager", Role.MANAGER, "corniche"), ("advisor", Role.ADVISOR, "corniche"),
                 ("revoked", Role.ADVISOR, "corniche")]
        for name, role, agency in specs:
            adv = objects["corniche"]["advisor_id"] if role is Role.ADVISOR else None
            ids[name], tokens[name] = auth.create_user(conn, name, role, agency, now, advisor_id=adv)
        auth.revoke(conn, "revoked")
    for agency, o in objects.items():  # an action on each case, for the routes that name one
        r = client.post(f"/api/cases/{o['case_id']}/actions", headers={"Authorization": f"Bearer {tokens['admin']}",
                                                                         "If-Match": '"1"'},
                        json={"kind": "rdv", "owner_id": o["advisor_id"], "due_date": "2026-05-04"})
        assert r.status_code == 200, r.text
        o["action_id"] = client.get(f"/api/cases/{o['case_id']}",
                                    headers={"Authorization": f"Bearer {tokens['admin']}"}).json()["actions"][0]["id"]
    users = {}
    for role in ROLES:  # each role's page session, opened with its token
        client.cookies.clear()
        r = client.post("/api/session", json={"token": tokens[role]})
        assert r.status_code == 200, r.text
        users[role] = Credential(tokens[role], client.cookies.get("m3_session"), r.json()["csrf_token"])
    client.cookies.clear()
    fp = sessions.fingerprint(auth.token_hash_of(engine, ids["admin"]))
    idle = config.get_settings().session_idle_hours

    def session(uid, seen: datetime = now) -> bytes:
        return json.dumps({"uid": uid, "fp": fp, "csrf": "c" * 32, "seen": int(seen.timestamp())}).encode()

    intruders = {
        "no credential": Credential(),
        "bad token": Credential(token="m3_0123456789abcdef.pas-le-bon-secret"),
        "revoked token": Credential(token=tokens["revoked"]),
        # The admin's session, signed with the development secret anyone could forge with.
        "forged session": Credential(cookie=_signed(session(ids["admin"]), sessions.DEV_SECRET), csrf="c" * 32),
        "not a session": Credential(cookie=_signed(b"[1, 2, 3]"), csrf="c" * 32),
        "malformed user id": Credential(cookie=_signed(session(f"{ids['admin']} OR 1=1")), csrf="c" * 32),
        "expired session": Credential(cookie=_signed(session(ids["admin"], now - timedelta(hours=idle + 1))),
                                      csrf="c" * 32),
    }
    yield World(app, client, objects, users, intruders)
    client.close()
    config.get_settings.cache_clear()


def _outcome(route: R, resp, ctx: dict[str, Any]) -> object:
    status = resp.status_code
    if status >= 500:
        return f"5xx ({status})"
    location = resp.headers.get("location") or resp.headers.get("HX-Redirect") or ""
    if status in (302, 303, 307) and location.startswith("/connexion"):
        return LOGIN
    if status == 404:
        if resp.headers.get("content-type", "").startswith("application/"):
            code = resp.json().get("code") if "json" in resp.headers["content-type"] else None
        else:
            node = _html(resp).css_first("[data-code]")
            code = node.attributes.get("data-code") if node is not None else None
        if code in ("case_not_found", "client_not_found"):
            return HIDDEN
    elif status == 403:
        return FORBIDDEN
    if status not in route.accepted:
        return status
    return route.check(resp, ctx) if route.check else OK


# ---------------------------------------------------------------- the tests
def _app_routes(app) -> set[tuple[str, str]]:
    """(method, path template) of everything the app serves; a mount of static files as GET."""
    out = set()
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, Mount):
            out.add(("GET", ctx.original_route.path))
            continue
        for method in (ctx.methods or set()) - {"HEAD"}:
            out.add((method, ctx.path))
    return out


def test_api__scoping_table_lists_every_route_of_the_app(world):
    served = _app_routes(world.app)
    table = {(r.method, r.path) for r in ROUTES}
    missing, gone = sorted(served - table), sorted(table - served)
    assert not missing, f"routes the scoping table does not try (add them to ROUTES): {missing}"
    assert not gone, f"routes of the table the app no longer serves: {gone}"
    assert len({r.name for r in ROUTES}) == len(ROUTES)
    # The case page's actions share one route: each one is tried.
    assert {r.fill["name"] for r in ROUTES if r.path == "/dossiers/{case_id}/{name}"} == set(case_page.ACTIONS)


@pytest.mark.parametrize("intruder", ["no credential", "bad token", "revoked token", "forged session",
                                      "not a session", "malformed user id", "expired session"])
def test_api__scoping_without_a_valid_login(world, intruder):
    cred = world.intruders[intruder]
    mismatches = []
    for route in ROUTES:
        expected = route.anon or ((LOGIN,) if route.page else (401,))
        resp = world.send(route, cred, "corniche")
        got = _outcome(route, resp, world.objects["corniche"])
        if route.anon is None and not route.page and resp.status_code == 401:
            assert resp.headers["content-type"].startswith("application/problem+json")
        if got not in expected and not (route.anon and resp.status_code in route.anon):
            mismatches.append(f"{route.name} ({route.method} {route.path}): expected {expected}, got {got} "
                              f"({resp.status_code} {resp.text[:100]!r})")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_api__scoping_by_role_and_agency(world, role, whose):
    """Each role on the objects of its own agency (Corniche) or of another (Rouvière)."""
    i, agency = (0, "corniche") if whose == "own" else (1, "rouviere")
    mismatches = []
    for route in ROUTES:
        resp = world.send(route, world.users[role], agency)
        got = _outcome(route, resp, world.objects[agency])
        if got != route.expect[role][i]:
            mismatches.append(f"{route.name} ({route.method} {route.path}), {role}, {whose} agency: expected "
                              f"{route.expect[role][i]}, got {got} ({resp.status_code} {resp.text[:100]!r})")
    assert not mismatches, "\n".join(mismatches)
    # Nothing changed: every write stopped at the stale version or before (2 = the set-up action).
    admin = {"Authorization": f"Bearer {world.users['admin'].token}"}
    world.client.cookies.clear()
    for o in world.objects.values():
        assert world.client.get(f"/api/cases/{o['case_id']}", headers=admin).json()["version"] == 2
