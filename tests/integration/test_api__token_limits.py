"""Failed bearer-token checks are rate-limited (api/credentials.py): per token id first, then
per client address with a generous threshold; a blocked check answers 429 problem+json with
Retry-After before anything is hashed; the window slides. On SQLite and PostgreSQL."""
from __future__ import annotations

from fastapi.testclient import TestClient

from api import auth
from tests.integration.api_support import api, assert_problem  # noqa: F401
from tests.integration.credentials_support import Ticker, install_gate


def _wrong(token: str) -> str:
    """The same token id with another secret: a guess that costs an argon2 check."""
    token_id, _ = auth.split(token)
    return f"{auth.PREFIX}{token_id}.{'x' * 43}"


def _get(client, token: str):
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def test_api__failed_token_checks_are_limited_per_token_id(api, monkeypatch):  # noqa: F811
    clock = Ticker()
    install_gate(api.client.app, api.engine, clock, token_id="3 per 5 minutes")
    calls = []
    real = auth.secret_matches
    monkeypatch.setattr(auth, "secret_matches", lambda h, s: calls.append(1) or real(h, s))
    for _ in range(3):
        assert_problem(_get(api.client, _wrong(api.tokens["advisor"])), 401, "invalid_token")
    assert len(calls) == 3
    r = _get(api.client, _wrong(api.tokens["advisor"]))
    body = assert_problem(r, 429, "too_many_attempts")
    assert 0 < int(r.headers["Retry-After"]) <= 300 and body["retry_after_s"] == int(r.headers["Retry-After"])
    assert "réessayez dans" in body["detail"]
    # The right token of that id waits too (it was never verified), and nothing was hashed.
    assert_problem(_get(api.client, api.tokens["advisor"]), 429, "too_many_attempts")
    assert len(calls) == 3
    # Another user's token, from the same address, is not concerned.
    assert _get(api.client, api.tokens["manager"]).status_code == 200


def test_api__a_locked_out_token_gets_in_when_the_window_slides(api):  # noqa: F811
    clock = Ticker()
    install_gate(api.client.app, api.engine, clock, token_id="3 per 5 minutes")
    for _ in range(3):
        _get(api.client, _wrong(api.tokens["advisor"]))
    r = _get(api.client, api.tokens["advisor"])
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 300
    clock.advance(299)
    assert _get(api.client, api.tokens["advisor"]).status_code == 429
    clock.advance(2)
    assert _get(api.client, api.tokens["advisor"]).json()["username"] == "advisor"


def test_api__a_verified_token_keeps_working_while_its_id_is_locked(api):  # noqa: F811
    install_gate(api.client.app, api.engine, Ticker(), token_id="3 per 5 minutes")
    assert _get(api.client, api.tokens["advisor"]).status_code == 200
    for _ in range(4):
        _get(api.client, _wrong(api.tokens["advisor"]))
    assert _get(api.client, api.tokens["advisor"]).status_code == 200  # proven already: no argon2 to protect


def test_api__failed_token_checks_are_limited_per_address(api):  # noqa: F811
    install_gate(api.client.app, api.engine, Ticker(), token_address="4 per 5 minutes")
    for guess in ("n'importe quoi", "m3_inconnu.secret", _wrong(api.tokens["admin"]), _wrong(api.tokens["manager"])):
        assert_problem(_get(api.client, guess), 401, "invalid_token")
    assert_problem(_get(api.client, api.tokens["advisor"]), 429, "too_many_attempts")
    elsewhere = TestClient(api.client.app, raise_server_exceptions=False, client=("192.0.2.7", 4000))
    try:
        assert elsewhere.get("/api/me", headers={"Authorization": f"Bearer {api.tokens['advisor']}"}).status_code == 200
    finally:
        elsewhere.close()


def test_api__a_success_does_not_reset_the_address_count_for_others(api):  # noqa: F811
    install_gate(api.client.app, api.engine, Ticker(), token_address="3 per 5 minutes")
    _get(api.client, _wrong(api.tokens["admin"]))
    _get(api.client, _wrong(api.tokens["manager"]))
    assert _get(api.client, api.tokens["advisor"]).status_code == 200
    _get(api.client, _wrong(api.tokens["compliance"]))
    assert_problem(_get(api.client, api.tokens["manager"]), 429, "too_many_attempts")


def test_api__session_opening_with_a_token_is_limited_too(api):  # noqa: F811
    install_gate(api.client.app, api.engine, Ticker(), token_id="2 per 5 minutes")
    for _ in range(2):
        assert_problem(api.client.post("/api/session", json={"token": _wrong(api.tokens["advisor"])}),
                       401, "invalid_token")
    assert_problem(api.client.post("/api/session", json={"token": api.tokens["advisor"]}), 429, "too_many_attempts")
