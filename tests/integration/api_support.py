"""Shared set-up of the API tests: the app on the test database at a fixed time, and one user
of each role (advisor and manager in Corniche, their twins in Rouvière)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api import auth
from api.app import create_app
from api.roles import Role
from tests import factories as f

PROBLEM = "application/problem+json"


@dataclass
class World:
    client: TestClient
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)
    advisors: dict[str, int] = field(default_factory=dict)

    def h(self, who: str, version: int | str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **extra}
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return headers


@pytest.fixture
def api(engine, now: datetime, monkeypatch) -> World:
    # Cheap argon2 parameters: the tests check behaviour, not the cost of a brute force.
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    auth.forget_all()
    world = World(TestClient(create_app(engine, clock=lambda: now), raise_server_exceptions=False), engine)
    with engine.begin() as conn:
        for agency in ("corniche", "rouviere"):
            world.advisors[agency] = f.advisor(conn, agency_id=agency)
        specs = [
            ("admin", Role.ADMIN, None, None), ("compliance", Role.COMPLIANCE, None, None),
            ("manager", Role.MANAGER, "corniche", None), ("advisor", Role.ADVISOR, "corniche", "corniche"),
            ("manager_rouviere", Role.MANAGER, "rouviere", None),
            ("advisor_rouviere", Role.ADVISOR, "rouviere", "rouviere"),
        ]
        for name, role, agency, adv in specs:
            _, world.tokens[name] = auth.create_user(conn, name, role, agency, now,
                                                     advisor_id=world.advisors[adv] if adv else None)
    yield world
    world.client.close()


def assert_problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == f"urn:suivi-m3:problem:{code}" and body["title"] and body["detail"]
    return body


def case_in(conn, agency: str) -> tuple[int, int, str, str]:
    """(case_id, advisor_id, client_id, contract_id): a ready case of `agency`."""
    adv = f.advisor(conn, agency_id=agency)
    cl = f.client(conn, advisor_id=adv, agency_id=agency)
    k = f.contract(conn, cl)
    return f.case(conn, cl, [k], adv, agency_id=agency), adv, cl, k
