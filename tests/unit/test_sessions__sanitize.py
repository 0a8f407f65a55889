"""What a session cookie may hold (api/sessions.py `sanitize`): after it, a login is whole and
well-typed or absent, the CSRF token is a short string or absent, flash messages are pairs of
strings or absent; keys it does not know are kept. And the address the rate limits count
(api/credentials.py `client_address`)."""
from __future__ import annotations

import math
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from api.credentials import client_address
from api.sessions import MAX_USER_ID, sanitize

_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=80))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8)
_sessions = st.fixed_dictionaries({}, optional={
    "uid": _values | st.integers(min_value=1, max_value=MAX_USER_ID), "fp": _values | st.text(max_size=16),
    "csrf": _values, "seen": _values | st.floats(min_value=0, max_value=2e9), "flash": _values,
    "other": _values})


@given(_sessions)
def test_sessions__sanitize_leaves_only_what_the_code_may_trust(session):
    before = dict(session)
    sanitize(session)
    if "uid" in session:
        assert type(session["uid"]) is int and 0 < session["uid"] <= MAX_USER_ID
        assert isinstance(session["fp"], str) and len(session["fp"]) <= 64
        assert type(session["seen"]) in (int, float) and math.isfinite(session["seen"])
    else:  # a login is whole or gone
        assert not {"fp", "seen"} & set(session)
    if "csrf" in session:
        assert isinstance(session["csrf"], str) and 0 < len(session["csrf"]) <= 128
    if "flash" in session:
        assert all(isinstance(x, str) for pair in session["flash"] for x in pair)
    if "other" in before:
        assert session["other"] == before["other"]


def test_sessions__a_good_session_is_left_untouched():
    good = {"uid": 7, "fp": "0123456789abcdef", "csrf": "tok", "seen": 1776241800, "flash": [["ok", "Enregistré."]]}
    session = dict(good)
    sanitize(session)
    assert session == good


def test_sessions__a_bad_user_id_ends_the_login_but_keeps_the_csrf_token():
    session = {"uid": 10**20, "fp": "x", "csrf": "tok", "seen": 1776241800}
    sanitize(session)
    assert session == {"csrf": "tok"}


def _req(host):
    return SimpleNamespace(client=SimpleNamespace(host=host) if host is not None else None)


def test_credentials__client_address_groups_ipv6_by_64():
    assert client_address(_req("192.0.2.7")) == "192.0.2.7"
    assert client_address(_req("2001:db8:1:2:aaaa::1")) == client_address(_req("2001:db8:1:2:bbbb::9")) == \
        "2001:db8:1:2::/64"
    assert client_address(_req("::ffff:192.0.2.7")) == "192.0.2.7"
    assert client_address(_req("testclient")) == "testclient"
    assert client_address(_req(None)) == "?"
