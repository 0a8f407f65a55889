"""A revoked token is refused at its next request, however recently it was verified, and
whichever server process revoked it: the verification cache (api/auth.py) saves the argon2,
never the database's word. On SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import update

from api import auth
from store.tables import AppUser
from tests.integration.api_support import api, assert_problem  # noqa: F401


def _me(api, who: str):  # noqa: F811
    return api.client.get("/api/me", headers=api.h(who))


def test_api__a_token_revoked_by_another_process_is_refused_at_its_next_request(api):  # noqa: F811
    assert _me(api, "advisor").status_code == 200  # verified: in this process's cache
    assert auth.remembered(api.tokens["advisor"]) is not None
    # Another server process (or `m3 user revoke` on another machine) writes only the database.
    with api.engine.begin() as conn:
        conn.execute(update(AppUser.__table__).where(AppUser.__table__.c.username == "advisor").values(active=False))
    assert_problem(_me(api, "advisor"), 401, "invalid_token")
    assert _me(api, "manager").status_code == 200


def test_api__m3_user_revoke_refuses_the_token_at_once(api):  # noqa: F811
    assert _me(api, "manager").status_code == 200
    with api.engine.begin() as conn:
        assert auth.revoke(conn, "manager")
    assert_problem(_me(api, "manager"), 401, "invalid_token")


def test_api__a_role_change_applies_at_the_next_request(api):  # noqa: F811
    assert _me(api, "advisor").json()["role"] == "advisor"
    with api.engine.begin() as conn:
        conn.execute(update(AppUser.__table__).where(AppUser.__table__.c.username == "advisor")
                     .values(role="compliance", agency_id=None, advisor_id=None))
    assert _me(api, "advisor").json()["role"] == "compliance"


def test_api__a_page_session_opened_with_a_revoked_token_ends(api):  # noqa: F811
    r = api.client.post("/api/session", json={"token": api.tokens["advisor"]})
    assert r.status_code == 200
    assert api.client.get("/api/me").json()["username"] == "advisor"
    with api.engine.begin() as conn:
        conn.execute(update(AppUser.__table__).where(AppUser.__table__.c.username == "advisor").values(active=False))
    assert_problem(api.client.get("/api/me"), 401, "unauthenticated")
