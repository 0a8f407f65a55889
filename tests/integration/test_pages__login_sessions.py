"""Login, sessions and CSRF of the pages: same users and roles as the API, on both databases."""
from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner

from api.app import create_app
from api.sessions import SessionSecretError
from tests.integration.pages_support import PASSWORD, html, site, text_of  # noqa: F401


def test_pages__root_sends_anonymous_to_login_and_user_to_mes_dossiers(site):  # noqa: F811
    anon = site.browser()
    r = anon.client.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/connexion")
    marie = site.logged_in("marie")
    r = marie.client.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/dossiers")


def test_pages__login_page_is_french_with_a_csrf_field(site):  # noqa: F811
    tree = html(site.browser().client.get("/connexion"))
    assert tree.css_first("html").attributes["lang"] == "fr"
    assert "Connexion" in text_of(tree.css_first("h1"))
    assert tree.css_first('form input[name="csrf_token"]').attributes["value"]


def test_pages__wrong_password_is_refused_without_saying_which_part(site):  # noqa: F811
    b = site.browser()
    for user, pw in (("marie", "pas le bon mot de passe"), ("personne", PASSWORD)):
        r = b.login(user, pw)
        assert r.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in r.text
    assert b.client.get("/dossiers", follow_redirects=False).status_code == 303


def test_pages__login_without_csrf_token_is_refused(site):  # noqa: F811
    b = site.browser()
    r = b.client.post("/connexion", data={"username": "marie", "password": PASSWORD})
    assert r.status_code == 403 and "jeton CSRF" in r.text


def test_pages__login_attempts_are_limited_per_username(site):  # noqa: F811
    b = site.browser()
    for _ in range(5):
        assert b.login("marie", "mauvais mot de passe!").status_code == 401
    r = b.login("marie")  # the right password, but the username is blocked for now
    assert r.status_code == 429 and "Trop de tentatives" in r.text and int(r.headers["Retry-After"]) > 0
    assert site.browser().login("paul").status_code == 303  # another user from the same address still may


def test_pages__login_attempts_are_limited_per_address(site):  # noqa: F811
    from api.credentials import AuthLimits, CredentialGate

    limits = AuthLimits(site.engine, "100 per 5 minutes", "3 per 5 minutes", "10 per 5 minutes", "100 per 5 minutes")
    site.app.state.credential_gate = CredentialGate(site.engine, limits, 2)
    b = site.browser()
    for name in ("a", "b", "c"):
        assert b.login(name, "mauvais mot de passe!").status_code == 401
    assert b.login("paul").status_code == 429


def test_pages__login_goes_back_to_the_page_asked_but_never_to_another_site(site):  # noqa: F811
    b = site.browser()
    r = b.client.get("/dossiers/7", follow_redirects=False)
    assert r.headers["location"] == "/connexion?suite=/dossiers/7"
    token = html(b.client.get("/connexion?suite=/dossiers/7")).css_first('input[name="csrf_token"]').attributes["value"]
    r = b.client.post("/connexion", data={"username": "marie", "password": PASSWORD, "csrf_token": token,
                                          "suite": "/dossiers/7"}, follow_redirects=False)
    assert r.headers["location"] == "/dossiers/7"
    b2 = site.browser()
    token = b2.csrf("/connexion")
    r = b2.client.post("/connexion", data={"username": "marie", "password": PASSWORD, "csrf_token": token,
                                           "suite": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/dossiers"


def test_pages__forged_session_cookie_goes_to_login(site):  # noqa: F811
    b = site.browser()
    # A cookie signed with the old built-in development secret: what anyone could forge before.
    import base64
    import json

    payload = base64.b64encode(json.dumps({"uid": 1, "fp": "x", "csrf": "x", "seen": 0}).encode())
    forged = TimestampSigner("change-me-in-production").sign(payload).decode()
    b.client.cookies.set("m3_session", forged)
    r = b.client.get("/dossiers", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/connexion?suite=/dossiers")
    r = b.client.get("/api/me")
    assert r.status_code == 401


def test_pages__session_ends_after_a_working_day_idle_and_slides_with_use(site):  # noqa: F811
    b = site.logged_in("marie")
    for _ in range(3):  # used every 9 hours: still open after 27 hours
        site.clock.advance(hours=9)
        assert b.client.get("/dossiers", follow_redirects=False).status_code == 200
    site.clock.advance(hours=10, minutes=1)
    r = b.client.get("/dossiers", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/connexion?suite=/dossiers")


def test_pages__htmx_request_of_an_expired_session_redirects_the_whole_page(site):  # noqa: F811
    b = site.logged_in("marie")
    site.clock.advance(hours=11)
    r = b.client.get("/dossiers?q=x", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/connexion")


def test_pages__logout_needs_csrf_and_ends_the_session(site):  # noqa: F811
    b = site.logged_in("marie")
    assert b.client.post("/deconnexion", data={}).status_code == 403
    token = b.csrf("/dossiers")
    r = b.client.post("/deconnexion", data={"csrf_token": token}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/connexion")
    assert "déconnecté" in b.client.get("/connexion").text
    assert b.client.get("/dossiers", follow_redirects=False).status_code == 303


def test_pages__password_change_needs_the_old_one_and_a_long_new_one(site):  # noqa: F811
    b = site.logged_in("marie")
    token = b.csrf()
    r = b.client.post("/compte/mot-de-passe", data={"csrf_token": token, "old_password": "faux faux faux",
                                                    "new_password": "un nouveau mot de passe",
                                                    "new_password_again": "un nouveau mot de passe"})
    assert r.status_code == 422 and "mot de passe actuel incorrect" in r.text
    r = b.client.post("/compte/mot-de-passe", data={"csrf_token": token, "old_password": PASSWORD,
                                                    "new_password": "court", "new_password_again": "court"})
    assert r.status_code == 422 and "12 caractères au moins" in r.text
    r = b.client.post("/compte/mot-de-passe", data={"csrf_token": token, "old_password": PASSWORD,
                                                    "new_password": "un nouveau mot de passe",
                                                    "new_password_again": "un autre mot de passe!"})
    assert r.status_code == 422 and "diffèrent" in r.text


def test_pages__password_change_keeps_this_session_and_ends_the_others(site):  # noqa: F811
    here, elsewhere = site.logged_in("marie"), site.logged_in("marie")
    r = here.client.post("/compte/mot-de-passe", data={
        "csrf_token": here.csrf(), "old_password": PASSWORD, "new_password": "un nouveau mot de passe",
        "new_password_again": "un nouveau mot de passe"}, follow_redirects=True)
    assert r.status_code == 200 and "Mot de passe changé" in r.text
    assert here.client.get("/dossiers", follow_redirects=False).status_code == 200
    assert elsewhere.client.get("/dossiers", follow_redirects=False).status_code == 303
    assert site.browser().login("marie", PASSWORD).status_code == 401
    assert site.browser().login("marie", "un nouveau mot de passe").status_code == 303


def test_pages__mon_compte_shows_the_user_and_role_in_french(site):  # noqa: F811
    b = site.logged_in("paul")
    tree = html(b.client.get("/compte"))
    text = text_of(tree.css_first("main"))
    assert "paul" in text and "Responsable d'agence" in text and "réassigner des dossiers" in text
    assert tree.css_first('a[href="/compte"]') is not None


def test_pages__revoked_user_session_ends(site):  # noqa: F811
    from api.auth import revoke

    b = site.logged_in("marie")
    with site.engine.begin() as conn:
        revoke(conn, "marie")
    assert b.client.get("/dossiers", follow_redirects=False).status_code == 303


def test_pages__json_api_accepts_the_page_session_with_its_csrf_header(site):  # noqa: F811
    b = site.logged_in("marie")
    assert b.client.get("/api/me").json()["username"] == "marie"
    site.clock.advance(hours=11)
    assert b.client.get("/api/me").status_code == 401


def test_pages__development_secret_is_refused_unless_dev(engine, monkeypatch):
    import config

    monkeypatch.setenv("M3_SESSION_SECRET", "change-me-in-production")
    monkeypatch.delenv("M3_DEV", raising=False)
    config.get_settings.cache_clear()
    try:
        with pytest.raises(SessionSecretError, match="change-me-in-production"):
            create_app(engine)
        monkeypatch.setenv("M3_DEV", "1")
        config.get_settings.cache_clear()
        assert create_app(engine) is not None
    finally:
        config.get_settings.cache_clear()
