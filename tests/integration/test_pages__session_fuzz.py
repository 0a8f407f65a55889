"""A session cookie signed with the server's secret but holding anything (a malformed user id,
wrong types, missing keys, huge values, a payload that is not an object) is no session: 401 on
/api, the login page on the pages, never a 500 (api/sessions.py SessionCookie). On SQLite and
PostgreSQL."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner

from tests.integration.api_support import assert_problem
from tests.integration.pages_support import site  # noqa: F401

SECRET = "s" * 48  # the `site` fixture's M3_SESSION_SECRET


def signed(payload: bytes) -> str:
    return TimestampSigner(SECRET).sign(base64.b64encode(payload)).decode()


def cookie(session) -> str:
    return signed(json.dumps(session).encode())


def _seen(site) -> int:
    return int(site.clock.now.timestamp())


@pytest.mark.parametrize("uid", [10**20, 2**31, 2**63, -1, 0, True, 1.5, float("inf"), float("nan"), "1", "x",
                                 "9" * 5000, [1], {"id": 1}, None])
def test_pages__a_malformed_user_id_is_no_session(site, uid):  # noqa: F811
    b = site.browser()
    b.client.cookies.set("m3_session", cookie({"uid": uid, "fp": "x", "csrf": "x", "seen": _seen(site)}))
    assert_problem(b.client.get("/api/me"), 401, "unauthenticated")
    r = b.client.get("/dossiers", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/connexion?suite=/dossiers")


@pytest.mark.parametrize("payload", [b"5", b"[1, 2]", b"null", b'"uid"', b"not json", b"[" * 100_000,
                                     b"\xff\xfe", b'{"uid": 1'])
def test_pages__a_signed_payload_that_is_not_an_object_is_no_session(site, payload):  # noqa: F811
    b = site.browser()
    bad = signed(payload)
    b.client.cookies.set("m3_session", bad)
    r = b.client.get("/api/me")
    assert_problem(r, 401, "unauthenticated")
    assert r.headers["set-cookie"].startswith("m3_session=null;")  # the answer clears the cookie
    b.client.cookies.set("m3_session", bad)
    r = b.client.get("/dossiers", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/connexion?suite=/dossiers")
    b.client.cookies.set("m3_session", bad)
    r = b.client.get("/connexion")  # the login page: a fresh anonymous session (its CSRF token) replaces it
    assert r.status_code == 200 and bad not in r.headers["set-cookie"]


def test_pages__a_bad_signature_is_no_session_either(site):  # noqa: F811
    b = site.browser()
    b.client.cookies.set("m3_session", "pas-une-signature")
    assert_problem(b.client.get("/api/me"), 401, "unauthenticated")


_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
            | st.sampled_from(["9" * 3000, "é" * 2000, "\x00", 2**31 - 1, 2**31, 1, 2]))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=10)
_sessions = st.fixed_dictionaries({}, optional={
    "uid": _values | st.integers(min_value=1, max_value=5), "fp": _values, "csrf": _values,
    "seen": _values | st.just("now"), "flash": _values | st.just([["ok", "Enregistré."]]),
    "autre": _values})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(session=_sessions)
def test_pages__any_session_contents_never_answer_500(site, session):  # noqa: F811
    if session.get("seen") == "now":
        session["seen"] = _seen(site)
    b = site.browser() if not site.browsers else site.browsers[0]
    b.client.cookies.clear()
    b.client.cookies.set("m3_session", cookie(session))
    me = b.client.get("/api/me")
    assert me.status_code == 401, me.text  # no fingerprint can match: never logged in
    page = b.client.get("/dossiers", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/connexion")
    assert b.client.get("/connexion").status_code == 200  # renders the flash messages, if any are usable
    write = b.client.post("/api/cases/1/events/cloturer", headers={"If-Match": '"1"', "X-CSRF-Token": "x"})
    assert write.status_code in (401, 403), write.text
    login = b.client.post("/connexion", data={"username": "marie", "password": "faux", "csrf_token": "x"})
    assert login.status_code in (401, 403), login.text
