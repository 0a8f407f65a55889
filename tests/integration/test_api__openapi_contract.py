"""The OpenAPI a client generator reads: every /api operation has a French description, a stable
camelCase operationId, the error responses it can really answer (problem+json, with the Problem
schema and one example per code) and an example of its request body.

The rules are derived here from the routes themselves, not from api/openapi.py: a route that
depends on the current user can answer 401, 429 and 503; one with a case in its path 404; one
behind If-Match (the write path) 409 event_not_allowed and version_conflict, 412, 428 and 422
invalid_change, guard_failed and calling_rules; one that reads a body 413 and 422 invalid_payload.
The last test sends every example body to the server as every role: the examples pass
validation, the roles the OpenAPI names (x-roles) are let through and the others get 403.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import TypeAdapter
from sqlalchemy import create_engine

from api.app import create_app
from api.deps import current_user, expected_version, get_engine
from api.roles import PERMISSIONS, Role
from tests.integration.api_support import PROBLEM, api, case_in  # noqa: F401  (fixture)

OPERATION_ID = re.compile(r"^[a-z][A-Za-z0-9]+$")
API_DIR = Path(__file__).resolve().parents[2] / "api"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
WRITE_CODES = {409: {"event_not_allowed", "version_conflict"}, 412: {"if_match_invalid"},
               428: {"if_match_required"}, 422: {"invalid_payload", "invalid_change", "guard_failed", "calling_rules"}}
AUTH_CODES = {401: {"unauthenticated", "invalid_token"}, 429: {"too_many_attempts"}, 503: {"database_unavailable"}}


def _calls(dependant):
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _api_routes(app):
    """(method, route) of every JSON API operation, as FastAPI builds the OpenAPI from them."""
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.path_format.startswith("/api/"):
            for method in sorted(route.methods):
                yield method, route


def required_errors(method: str, route, operation: dict) -> dict[int, set[str]]:
    """status -> the codes this route must document, from what it depends on."""
    calls = set(_calls(route.dependant))
    need: dict[int, set[str]] = {}

    def add(status: int, *codes: str) -> None:
        need.setdefault(status, set()).update(codes)

    params = route.dependant.path_params or route.dependant.query_params or route.body_field is not None
    if params:
        add(422, "invalid_payload")
    if route.body_field is not None:
        add(413, "payload_too_large")
    if current_user in calls:
        for status, codes in AUTH_CODES.items():
            add(status, *codes)
        if method in UNSAFE:
            add(403, "csrf")
        permission = operation.get("x-permission")
        if permission is not None and PERMISSIONS[permission] != frozenset(Role):
            add(403, "forbidden")
    if get_engine in calls:
        add(503, "database_unavailable")
    if any(p.name == "case_id" for p in route.dependant.path_params):
        add(404, "case_not_found")
    if expected_version in calls:
        for status, codes in WRITE_CODES.items():
            add(status, *codes)
    return need


@pytest.fixture(scope="module")
def app():
    return create_app(create_engine("sqlite://"))  # the schema only: no request reaches the database


@pytest.fixture(scope="module")
def schema(app):
    return app.openapi()


def _documented(operation: dict) -> dict[int, set[str]]:
    out = {}
    for status, response in operation["responses"].items():
        if int(status) >= 400:
            examples = response.get("content", {}).get(PROBLEM, {}).get("examples", {})
            out[int(status)] = {e["value"].get("code") for e in examples.values()}
    return out


def test_api_openapi__every_operation_has_a_french_description_and_a_camel_case_operation_id(app, schema):
    seen: dict[str, str] = {}
    problems = []
    for method, route in _api_routes(app):
        label = f"{method} {route.path_format}"
        operation = schema["paths"][route.path_format][method.lower()]
        if not (route.summary or "").strip() or not (route.description or "").strip():
            problems.append(f"{label}: summary and description are both needed")
        elif not operation["description"].startswith(route.description.strip()):
            problems.append(f"{label}: the OpenAPI description is not the route's")
        if "Rôles" not in operation["description"] and "Sans authentification" not in operation["description"]:
            problems.append(f"{label}: the description does not say who may call it")
        if route.operation_id is None:
            problems.append(f"{label}: no explicit operation_id (FastAPI would make one from the path)")
        op_id = operation["operationId"]
        if not OPERATION_ID.fullmatch(op_id):
            problems.append(f"{label}: operationId {op_id!r} is not camelCase")
        if op_id in seen:
            problems.append(f"{label}: operationId {op_id!r} already names {seen[op_id]}")
        seen[op_id] = label
    assert not problems, "\n".join(problems)
    assert len(seen) >= 40 and {"listCases", "getCase", "recordAttempt", "bookAppointment"} <= set(seen)


def test_api_openapi__every_operation_documents_its_real_error_responses_as_problem_json(app, schema):
    problems = []
    assert {"type", "code", "title", "status", "detail"} <= set(schema["components"]["schemas"]["Problem"]["required"])
    for method, route in _api_routes(app):
        label = f"{method} {route.path_format}"
        operation = schema["paths"][route.path_format][method.lower()]
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            content = response.get("content", {})
            if set(content) != {PROBLEM}:
                problems.append(f"{label} {status}: media types {sorted(content)}, expected only {PROBLEM}")
                continue
            if content[PROBLEM].get("schema") != {"$ref": "#/components/schemas/Problem"}:
                problems.append(f"{label} {status}: not the Problem schema")
            for name, example in content[PROBLEM].get("examples", {}).items():
                value = example["value"]
                if value["status"] != int(status) or value["type"] != f"urn:suivi-m3:problem:{value['code']}" \
                        or name != value["code"] or not value["detail"] or not value["title"]:
                    problems.append(f"{label} {status}: example {name} is not a problem of that status")
        documented = _documented(operation)
        for status, codes in required_errors(method, route, operation).items():
            missing = codes - documented.get(status, set())
            if missing:
                problems.append(f"{label}: {status} {sorted(missing)} not documented")
    assert not problems, "\n".join(problems)
    assert "HTTPValidationError" not in str(schema["paths"])  # FastAPI's 422 shape is not the API's


def test_api_openapi__documented_error_codes_exist_in_the_code(schema):
    source = "\n".join(p.read_text(encoding="utf-8") for p in API_DIR.rglob("*.py")
                       if p.name not in ("openapi.py", "openapi_examples.py"))
    domain = {"case_not_found", "version_conflict", "event_not_allowed", "guard_failed", "calling_rules",
              "invalid_change"}  # api.errors.domain_problem
    codes = {c for item in schema["paths"].values() for op in item.values() for cs in _documented(op).values()
             for c in cs}
    invented = sorted(c for c in codes if f'"{c}"' not in source and c not in domain)
    assert not invented, f"documented codes no route answers: {invented}"


def test_api_openapi__every_request_body_has_examples_that_validate(app, schema):
    problems = []
    bodies = 0
    for method, route in _api_routes(app):
        label = f"{method} {route.path_format}"
        operation = schema["paths"][route.path_format][method.lower()]
        if route.body_field is None:
            if "requestBody" in operation:
                problems.append(f"{label}: a requestBody in the OpenAPI, none in the route")
            continue
        bodies += 1
        examples = operation["requestBody"]["content"]["application/json"].get("examples") or {}
        if not examples:
            problems.append(f"{label}: no example request body")
        adapter = TypeAdapter(route.body_field.field_info.annotation)
        for name, example in examples.items():
            if not example.get("summary"):
                problems.append(f"{label}: example {name} has no summary")
            try:
                adapter.validate_python(example["value"])
            except Exception as exc:  # noqa: BLE001  (report every failing example)
                problems.append(f"{label}: example {name} does not validate: {exc}")
    assert not problems, "\n".join(problems)
    assert bodies >= 20


def test_api_openapi__pages_stay_out_of_the_schema(app, schema):
    assert all(path.startswith("/api/") for path in schema["paths"]), sorted(schema["paths"])
    pages = [r for r in iter_route_contexts(app.routes)
             if isinstance(r.original_route, APIRoute) and not r.path_format.startswith("/api/")]
    assert len(pages) > 20  # the pages are there, as routes
    shown = [r.path_format for r in pages if r.include_in_schema]
    assert not shown, f"pages in the OpenAPI: {shown}"


def test_api_openapi__if_match_is_required_on_every_write(app, schema):
    for method, route in _api_routes(app):
        if expected_version in set(_calls(route.dependant)):
            operation = schema["paths"][route.path_format][method.lower()]
            header = [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == "If-Match"]
            assert header and header[0]["required"] is True, f"{method} {route.path_format}"


# ---------------------------------------------------------------- against the server
def _path(template: str, ctx: dict) -> str:
    code = "dp" if "/requirements/" in template else "habitation"
    values = {"case_id": ctx["case"], "contract_id": ctx["contract"], "client_id": ctx["client"], "code": code,
              "event": "joindre"}
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), template)


def test_api_openapi__examples_are_accepted_and_the_documented_roles_are_the_real_ones(api):  # noqa: F811
    schema = api.client.get("/openapi.json").json()
    with api.engine.begin() as conn:
        case_id, adv, client, contract = case_in(conn, "corniche")  # the users' own agency
    ctx = {"case": case_id, "contract": contract, "client": client}
    mismatches, sent = [], 0
    for template, item in schema["paths"].items():
        for method, operation in item.items():
            bodies = [e["value"] for e in operation.get("requestBody", {}).get("content", {})
                      .get("application/json", {}).get("examples", {}).values()] or [None]
            roles = operation.get("x-roles")
            for role in (Role(r).value for r in Role) if roles is not None else ("public",):
                for body in bodies:
                    headers = api.h(role, 99) if role != "public" else {}  # stale: nothing is changed
                    resp = api.client.request(method.upper(), _path(template, ctx), json=body, headers=headers)
                    sent += 1
                    status, code = resp.status_code, None
                    if resp.headers.get("content-type", "").startswith(PROBLEM):
                        code = resp.json()["code"]
                    where = f"{method.upper()} {template} as {role} with {body}: {status} {code}"
                    if str(status) not in operation["responses"]:
                        mismatches.append(f"{where}: status not documented")
                    if roles is not None and role not in roles:
                        if (status, code) != (403, "forbidden"):
                            mismatches.append(f"{where}: expected 403 forbidden (not in x-roles)")
                    elif status >= 500 or code in ("forbidden", "invalid_payload", "case_not_found"):
                        mismatches.append(f"{where}: the example or the role was refused")
    assert not mismatches, "\n".join(mismatches)
    assert sent >= 150
