"""M3_TODAY: the server runs on a simulated date, says so on every answer (X-M3-Simulated-Date)
and gives the pages a banner; the command line's --today defaults to it. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

import config
from api import simulated
from api.app import create_app
from store.snapshot import ATTEMPT
from tests.integration.api_support import api, assert_problem, case_in  # noqa: F401

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def simulated_app(api, monkeypatch):  # noqa: F811
    def make(value: str | None):
        if value is None:
            monkeypatch.delenv("M3_TODAY", raising=False)
        else:
            monkeypatch.setenv("M3_TODAY", value)
        config.get_settings.cache_clear()
        return TestClient(create_app(api.engine), raise_server_exceptions=False)
    yield api, make
    config.get_settings.cache_clear()


def test_simulated_date__every_answer_says_the_simulated_day_and_the_clock_follows(simulated_app):
    api, make = simulated_app
    with api.engine.begin() as conn:
        case_id, *_ = case_in(conn, "corniche")
    client = make("2026-11-21")  # a Saturday
    assert client.get("/api/health").headers["X-M3-Simulated-Date"] == "2026-11-21"
    missing = client.get("/api/cases/999999", headers=api.h("advisor"))
    assert_problem(missing, 404, "case_not_found")
    assert missing.headers["X-M3-Simulated-Date"] == "2026-11-21"  # errors too
    # An inbound call recorded "now", on the simulated Saturday.
    r = client.post(f"/api/cases/{case_id}/attempts", headers=api.h("advisor", 1),
                    json={"channel": "phone", "outcome": "reached", "direction": "inbound"})
    assert r.status_code == 200, r.text
    assert r.headers["X-M3-Simulated-Date"] == "2026-11-21"
    with api.engine.connect() as conn:
        at = conn.execute(select(ATTEMPT.c.at).where(ATTEMPT.c.case_id == case_id)).scalar_one()
    assert at.astimezone(PARIS).date() == date(2026, 11, 21)
    client.close()


def test_simulated_date__a_full_datetime_freezes_the_clock_and_the_banner_says_so(simulated_app):
    api, make = simulated_app
    client = make("2026-11-23T08:30:00")
    assert client.get("/api/health").headers["X-M3-Simulated-Date"] == "2026-11-23"
    app = client.app
    assert app.state.clock().astimezone(PARIS).hour == 8
    request = SimpleNamespace(app=app)
    assert simulated.simulated_date(request) == date(2026, 11, 23)
    assert simulated.banner(request) == ("Date simulée : lundi 23 novembre 2026 (M3_TODAY) — "
                                         "ce n'est pas la date réelle")
    client.close()


def test_simulated_date__no_header_and_no_banner_on_the_real_clock(simulated_app):
    api, make = simulated_app
    client = make(None)
    assert "X-M3-Simulated-Date" not in client.get("/api/health").headers
    assert simulated.banner(SimpleNamespace(app=client.app)) is None
    client.close()


def test_simulated_date__an_unreadable_value_stops_the_server_with_a_french_message(simulated_app, monkeypatch):
    api, _ = simulated_app
    monkeypatch.setenv("M3_TODAY", "demain")
    config.get_settings.cache_clear()
    with pytest.raises(ValueError, match="M3_TODAY illisible"):
        create_app(api.engine)


def test_simulated_date__the_command_lines_today_defaults_to_m3_today(engine, monkeypatch):
    from cli.main import app
    from flows import jobs, runner

    monkeypatch.setattr(jobs, "_engine", lambda: engine)
    monkeypatch.setattr(runner, "prefect_api_url", lambda: None)
    cli = CliRunner()
    res = cli.invoke(app, ["remind"], env={"M3_TODAY": "2026-04-04T10:00:00"})  # a Saturday
    assert res.exit_code == 0, res.output
    assert "Relances du 04/04/2026" in res.stdout and "Jour non ouvré" in res.stdout
    res = cli.invoke(app, ["remind", "--today", "2026-04-06"], env={"M3_TODAY": "2026-04-04"})  # explicit wins
    assert res.exit_code == 0 and "Relances du 06/04/2026" in res.stdout
    assert "M3_TODAY" in cli.invoke(app, ["remind", "--help"]).stdout
