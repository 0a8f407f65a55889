"""Bad input: the API with oversized and deeply nested bodies, wrong types and injection strings
(SQL, HTML, header CRLF, path traversal, format strings, NUL, huge) in every path parameter,
every query filter and every body field of every operation of the OpenAPI document; the pages'
filters too.

Required: never a 5xx; every refusal of /api is a problem+json; an injection string that is
accepted is stored and given back verbatim (never executed: the tables are all still there);
nothing hostile comes back as a response header; the body limit refuses before authentication.
"""
from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func, inspect, select

from store.tables import Client
from tests import factories as f
from tests.hardening import logscan
from tests.hardening.profile import PROFILE
from tests.integration.api_support import PROBLEM, api  # noqa: F401  (fixture)

pytestmark = pytest.mark.hardening

SQL = ["' OR '1'='1", "'; DROP TABLE client; --", "1; SELECT pg_sleep(5)--", "\" OR \"\"=\"",
       "1 UNION SELECT token_hash FROM app_user"]
HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>"]
CRLF = ["a\r\nSet-Cookie: m3_session=forged", "\r\nX-Injected: 1", "%0d%0aX-Injected:%201"]
TRAVERSAL = ["../../../../etc/passwd", "..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
             "/etc/passwd\x00.pdf"]
ODD = ["{{7*7}}${7*7}%s%n%x", "\x00", "\u202e\ufeff\U0001d54f", "A" * 100_000, "", " "]
STRINGS = SQL + HTML + CRLF + TRAVERSAL + ODD
WRONG_TYPES = [12345, -1, 0, 2 ** 63, -(2 ** 63) - 1, 1e308, True, None, [], {}, [1, "a", None], {"$ne": None},
               {"nested": {"deeper": [{}]}}]
HOSTILE = STRINGS + WRONG_TYPES
PATH_HOSTILE = ["..%2F..%2Fetc%2Fpasswd", "%00", "1%20OR%201%3D1", "%3Cscript%3E", "99999999999999999999999",
                "-1", "0", "1.5", "%0d%0aX-Injected:%201", "%E2%80%AE", "a" * 3000]


def _pick(values: list, j: int) -> list:
    """The profile's share of `values` for the j-th field: all of them in FULL; in SHORT a
    rotating window, so that across the fields every value is tried."""
    n = min(PROFILE.api_hostile_values, len(values))
    return [values[(j * n + k) % len(values)] for k in range(n)]


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _body_fields(doc: dict, op: dict) -> tuple[dict | None, list[str]]:
    content = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    if not content:
        return None, []
    examples = content.get("examples") or {}
    base = next(iter(examples.values()))["value"] if examples else {}
    schema = _resolve(doc, content.get("schema", {}))
    return (base if isinstance(base, dict) else {}), sorted(schema.get("properties", {}))


def _seed(api) -> dict[str, str]:  # noqa: F811
    with api.engine.begin() as conn:
        case_id, adv, client_id, contract_id = f.ready_case(conn, last_name="Malveillant", first_name="Hector",
                                                            email="hector.malveillant@example.fr")
    logscan.register_values(names=["Malveillant", "Hector Malveillant"], emails=["hector.malveillant@example.fr"])
    return {"case_id": str(case_id), "contract_id": contract_id, "client_id": client_id, "code": "dp",
            "event": "joindre", "action_id": "1", "appointment_id": "1", "topic_id": "1", "outcome_id": "1",
            "seq": "1"}


class Tally:
    def __init__(self) -> None:
        self.n, self.statuses, self.failures = 0, {}, []

    def check(self, label: str, resp) -> None:
        self.n += 1
        self.statuses[resp.status_code] = self.statuses.get(resp.status_code, 0) + 1
        if resp.status_code >= 500:
            self.failures.append(f"{label}: {resp.status_code} {resp.text[:200]}")
        elif resp.status_code >= 400 and label.split(" ")[1].startswith("/api") and resp.status_code != 413:
            if not resp.headers.get("content-type", "").startswith(PROBLEM):
                self.failures.append(f"{label}: {resp.status_code} not problem+json "
                                     f"({resp.headers.get('content-type')})")
        for name, value in resp.headers.items():
            if name.lower() == "x-injected" or "forged" in value:
                self.failures.append(f"{label}: hostile text came back as a header {name}: {value[:80]}")


def _version(api, case_id: str) -> str:  # noqa: F811
    r = api.client.get(f"/api/cases/{case_id}", headers=api.h("admin"))
    return r.headers.get("etag", '"1"')


@pytest.mark.parametrize("engine", [k if k == "sqlite" else pytest.param(k, marks=pytest.mark.postgres)
                                    for k in PROFILE.api_sweep_databases], indirect=True)
def test_bad_input__hostile_values_in_every_parameter_and_field(engine, api, figures):  # noqa: F811
    ids = _seed(api)
    doc = api.client.app.openapi()
    tally = Tally()
    j = 0
    etag = [_version(api, ids["case_id"])]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            params = op.get("parameters", [])
            base_path = path
            for p in params:
                if p["in"] == "path":
                    base_path = base_path.replace("{" + p["name"] + "}", quote(ids.get(p["name"], "1"), safe=""))
            body, fields = _body_fields(doc, op)

            def send(url: str, query: dict | None = None, payload=body, headers: dict | None = None) -> None:
                h = {**api.h("admin"), "If-Match": etag[0], **(headers or {})}
                kwargs = {"params": query or {}, "headers": h}
                if payload is not None:
                    kwargs["content"] = json.dumps(payload)
                    h["Content-Type"] = "application/json"
                resp = api.client.request(method.upper(), url, **kwargs)
                if resp.headers.get("etag") and "{case_id}" in path and url.startswith(f"/api/cases/{ids['case_id']}"):
                    etag[0] = resp.headers["etag"]  # the version after a write, or the current one of a 409
                tally.check(f"{method.upper()} {url.split('?')[0]} {query or ''}", resp)

            for p in params:  # path parameters: traversal, overflow, encodings
                if p["in"] == "path":
                    for value in _pick(PATH_HOSTILE, j):
                        send(_with(path, ids, p["name"], value))
                    j += 1
                elif p["in"] == "query":  # every filter
                    for value in _pick(STRINGS + ["-1", "99999999999999999999", "1e309", "true"], j):
                        send(base_path, {p["name"]: value[:8000]})  # a URL past ~64 KB is no request
                    j += 1
            for name in fields:  # every body field: injection strings and wrong types
                for value in _pick(HOSTILE, j):
                    send(base_path, payload={**(body or {}), name: value})
                j += 1
            if body is not None:  # the body itself of the wrong shape
                for value in (WRONG_TYPES[:4] if PROFILE.name == "SHORT" else WRONG_TYPES):
                    send(base_path, payload=value)
            if method in ("post", "put", "patch") and "{case_id}" in path:  # If-Match of every odd kind
                for im in ['"1" OR 1=1', "*", '"-1"', 'W/"1"', '"' + "9" * 40 + '"', "", '"\x7f"']:
                    send(base_path, headers={"If-Match": im})
    fives = sum(n for s, n in tally.statuses.items() if s >= 500)
    figures(f"{api.engine.dialect.name}: {tally.n} hostile API requests over {len(doc['paths'])} paths: "
            f"statuses {dict(sorted(tally.statuses.items()))}, 5xx {fives}")
    assert not tally.failures, "\n".join(tally.failures[:30])
    with api.engine.connect() as conn:  # nothing was executed: every table is there, the client too
        assert set(inspect(conn).get_table_names()) >= {"client", "followup_case", "audit_record", "app_user"}
        assert conn.execute(select(func.count()).select_from(Client.__table__)).scalar_one() >= 1


def _with(path: str, ids: dict, name: str, value: str) -> str:
    out = path.replace("{" + name + "}", value)
    for k, v in ids.items():
        out = out.replace("{" + k + "}", quote(v, safe=""))
    return out


VERBATIM = SQL + HTML + ["{{7*7}}${7*7}%s%n", "\u202e\ufeff\U0001d54f", "Ren\u00e9e O'Brien-D\u00fcrr"]


def test_bad_input__injection_strings_are_stored_verbatim(api):  # noqa: F811
    ids = _seed(api)
    case = ids["case_id"]
    for value in VERBATIM:
        resp = api.client.patch(f"/api/cases/{case}/client", json={"city": value, "address": value},
                                headers={**api.h("advisor"), "If-Match": _version(api, case)})
        assert resp.status_code == 200, (value, resp.text)
        got = api.client.get(f"/api/cases/{case}", headers=api.h("advisor"))
        assert got.status_code == 200, got.text
        client = got.json()["client"]
        assert client["city"] == value.strip() and client["address"] == value.strip(), (value, client["city"])
        assert api.client.get("/api/cases", params={"q": value}, headers=api.h("advisor")).status_code < 500


def test_bad_input__oversized_bodies_are_refused_before_authentication(api):  # noqa: F811
    ids = _seed(api)
    big = b'{"city": "' + b"x" * 2_000_000 + b'"}'
    for headers in ({}, {"Authorization": "Bearer m3_forged.secret"}, api.h("advisor", 1)):
        resp = api.client.patch(f"/api/cases/{ids['case_id']}/client", content=big,
                                headers={**headers, "Content-Type": "application/json"})
        assert resp.status_code == 413, resp.text

    def chunks():  # no Content-Length: cut off once past the limit
        for _ in range(40):
            yield b"x" * 100_000

    resp = api.client.post(f"/api/cases/{ids['case_id']}/notes", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert resp.status_code == 413


@pytest.mark.parametrize("shape", ["list", "dict", "mixed"])
def test_bad_input__deeply_nested_bodies_answer_4xx(api, shape):  # noqa: F811
    ids = _seed(api)
    depth = 100_000
    body = {"list": "[" * depth + "]" * depth,
            "dict": '{"a":' * depth + "1" + "}" * depth,
            "mixed": '{"city": ' + '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2) + "}"}[shape]
    assert len(body) < 1_000_000
    for path in (f"/api/cases/{ids['case_id']}/client", f"/api/cases/{ids['case_id']}/attempts", "/api/session"):
        method = "PATCH" if path.endswith("/client") else "POST"
        resp = api.client.request(method, path, content=body.encode(),
                                  headers={**api.h("advisor", 1), "Content-Type": "application/json"})
        assert 400 <= resp.status_code < 500, (path, resp.status_code, resp.text[:300])
        assert resp.headers["content-type"].startswith(PROBLEM)


def test_bad_input__a_body_of_many_wrong_fields_gets_a_bounded_error_list(api):  # noqa: F811
    ids = _seed(api)
    items = [{"case_id": "x", "version": "y", "advisor_id": "z"} for _ in range(20_000)]
    resp = api.client.post("/api/cases/reassign", json={"items": items}, headers=api.h("admin"))
    assert resp.status_code == 422 and resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert len(body.get("errors", [])) <= 50 and len(resp.content) < 20_000, len(resp.content)
    assert ids


PAGE_VALUES = STRINGS[:12] + ["%0d%0aSet-Cookie:%20x=1", "//evil.example/", "https://evil.example", "/\\evil.example"]


def test_bad_input__page_filters_and_redirects_hold(api):  # noqa: F811
    """The pages' GET filters and the login's `suite` (where to go after login): no 5xx, no
    hostile markup reflected unescaped, no header split, no redirect off the site."""
    _seed(api)
    for value in PAGE_VALUES:
        for logged_in in (False, True):
            api.client.cookies.clear()
            if logged_in:
                assert api.client.post("/api/session", json={"token": api.tokens["advisor"]}).status_code == 200
            tried = ((("/dossiers", {"q": value}), ("/dossiers", {"etat": value, "perimetre": value}),
                      ("/dossiers", {"conseiller": value, "agence": value})) if logged_in else
                     (("/connexion", {"suite": value}), ("/", {"suite": value}), ("/dossiers", {"q": value})))
            for url, params in tried:
                r = api.client.get(url, params=params, follow_redirects=False)
                assert r.status_code < 500, (url, params, r.status_code)
                assert "<script>alert(1)</script>" not in r.text and "onerror=alert(1)>" not in r.text
                location = r.headers.get("location", "")
                assert "\n" not in location and "\r" not in location, location
                if location:  # a redirect stays on this site: a path, never //host or /\\host
                    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
                    assert not urlsplit(location).netloc, location
                assert "x-injected" not in {k.lower() for k in r.headers}
