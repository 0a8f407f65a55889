"""Shared set-up of the page tests: the app on the test database with a clock the test moves,
users with passwords (advisor and manager in Corniche, an advisor in Rouvière), and a browser-like
client that logs in, keeps its cookie and reads forms (CSRF token, version) from the HTML."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from sqlalchemy import Engine

from api import auth
from api.app import create_app
from api.roles import Role
from tests import factories as f

PASSWORD = "correct horse battery"


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


def html(resp) -> HTMLParser:
    return HTMLParser(resp.text)


def text_of(node) -> str:
    return " ".join(node.text(separator=" ").split()) if node is not None else ""


@dataclass
class Browser:
    """A TestClient with its own cookie jar, as one browser."""

    client: TestClient

    def login(self, username: str, password: str = PASSWORD, follow: bool = False):
        page = self.client.get("/connexion")
        token = html(page).css_first('input[name="csrf_token"]').attributes["value"]
        return self.client.post("/connexion", data={"username": username, "password": password, "csrf_token": token},
                                follow_redirects=follow)

    def csrf(self, path: str = "/compte") -> str:
        return html(self.client.get(path)).css_first('input[name="csrf_token"]').attributes["value"]

    def case_form(self, case_id: int) -> tuple[str, int]:
        """(csrf token, version) as the case page renders them."""
        tree = html(self.client.get(f"/dossiers/{case_id}"))
        form = tree.css_first("#case-body form")
        return (form.css_first('input[name="csrf_token"]').attributes["value"],
                int(form.css_first('input[name="version"]').attributes["value"]))

    def post_case(self, case_id: int, action: str, data: dict, htmx: bool = True, version: int | None = None):
        token, current = self.case_form(case_id)
        headers = {"HX-Request": "true"} if htmx else {}
        body = {"csrf_token": token, "version": str(current if version is None else version), **data}
        return self.client.post(f"/dossiers/{case_id}/{action}", data=body, headers=headers, follow_redirects=False)


@dataclass
class Site:
    app: object
    engine: Engine
    clock: MovableClock
    advisors: dict[str, int] = field(default_factory=dict)
    browsers: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        b = Browser(TestClient(self.app, raise_server_exceptions=False))
        self.browsers.append(b)
        return b

    def logged_in(self, username: str) -> Browser:
        b = self.browser()
        resp = b.login(username)
        assert resp.status_code == 303, resp.text
        return b


@pytest.fixture
def site(engine, now: datetime, monkeypatch) -> Site:
    import config

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)
    monkeypatch.setenv("M3_SESSION_SECRET", "s" * 48)
    monkeypatch.delenv("M3_TODAY", raising=False)
    config.get_settings.cache_clear()
    auth.forget_all()
    clock = MovableClock(now)
    s = Site(create_app(engine, clock=clock), engine, clock)
    with engine.begin() as conn:
        for agency in ("corniche", "rouviere"):
            s.advisors[agency] = f.advisor(conn, agency_id=agency, name=f"Conseillère {agency.capitalize()}")
        for name, role, agency, adv in [("marie", Role.ADVISOR, "corniche", "corniche"),
                                        ("paul", Role.MANAGER, "corniche", None),
                                        ("rose", Role.ADVISOR, "rouviere", "rouviere"),
                                        ("claire", Role.COMPLIANCE, None, None)]:
            auth.create_user(conn, name, role, agency, now, advisor_id=s.advisors[adv] if adv else None)
            auth.set_password(conn, name, PASSWORD, now, 12)
    yield s
    for b in s.browsers:
        b.client.close()
    config.get_settings.cache_clear()


def case_for(conn, advisor_id: int, agency: str = "corniche", kind: str = "particulier", **client) -> tuple[int, str, str]:
    """(case id, client id, contract id): a case of `advisor_id` in à contacter."""
    cl = f.client(conn, kind, advisor_id=advisor_id, agency_id=agency, **client)
    k = f.contract(conn, cl)
    return f.case(conn, cl, [k], advisor_id, agency_id=agency), cl, k
