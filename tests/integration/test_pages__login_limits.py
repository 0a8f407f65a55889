"""The pages' failed password checks share the API's mechanism (api/credentials.py): counted in
the database, so one server process's failures block the login in another; a sliding window;
a French page with Retry-After; a wrong current password on /compte counts too. On SQLite and
PostgreSQL."""
from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from tests.integration.credentials_support import Ticker, install_gate
from tests.integration.pages_support import PASSWORD, Browser, site  # noqa: F401

WRONG = "mauvais mot de passe!"


def test_pages__failed_logins_in_one_server_process_block_the_login_in_another(site):  # noqa: F811
    clock = Ticker()
    install_gate(site.app, site.engine, clock, login_user="3 per 5 minutes")
    other_app = create_app(site.engine, clock=site.clock)  # a second `m3 serve` worker on the same database
    install_gate(other_app, site.engine, clock, login_user="3 per 5 minutes")
    for _ in range(3):
        assert site.browser().login("marie", WRONG).status_code == 401
    other = Browser(TestClient(other_app, raise_server_exceptions=False))
    try:
        r = other.login("marie")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) == 300
        assert "Trop de tentatives de connexion. Réessayez dans 5 minutes." in r.text
    finally:
        other.client.close()


def test_pages__a_locked_out_user_logs_in_once_the_window_slides(site):  # noqa: F811
    clock = Ticker()
    install_gate(site.app, site.engine, clock, login_user="3 per 5 minutes")
    b = site.browser()
    for _ in range(3):
        b.login("marie", WRONG)
        clock.advance(60)
    r = b.login("marie")  # first failure 3 minutes ago: 2 minutes to wait
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 120 and "Réessayez dans 2 minutes" in r.text
    clock.advance(121)
    assert b.login("marie").status_code == 303


def test_pages__a_successful_login_does_not_reset_the_address_count(site):  # noqa: F811
    install_gate(site.app, site.engine, Ticker(), login_address="3 per 5 minutes")
    b = site.browser()
    assert b.login("inconnu", WRONG).status_code == 401
    assert b.login("rose", WRONG).status_code == 401
    assert site.browser().login("paul").status_code == 303
    assert b.login("claire", WRONG).status_code == 401
    assert site.browser().login("marie").status_code == 429


def test_pages__wrong_current_passwords_on_mon_compte_count_as_failed_checks(site):  # noqa: F811
    install_gate(site.app, site.engine, Ticker(), login_user="3 per 5 minutes")
    b = site.logged_in("marie")
    token = b.csrf()
    form = {"csrf_token": token, "new_password": "un nouveau mot de passe",
            "new_password_again": "un nouveau mot de passe"}
    for _ in range(3):
        r = b.client.post("/compte/mot-de-passe", data={**form, "old_password": WRONG})
        assert r.status_code == 422 and "mot de passe actuel incorrect" in r.text
    r = b.client.post("/compte/mot-de-passe", data={**form, "old_password": PASSWORD})
    assert r.status_code == 429 and "trop de tentatives" in r.text and int(r.headers["Retry-After"]) > 0
    assert site.browser().login("marie").status_code == 429  # the same count as the login's
