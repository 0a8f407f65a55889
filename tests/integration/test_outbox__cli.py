"""`m3 outbox` and `m3 send` against an embedded database and a loopback SMTP server."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from typer.testing import CliRunner

from config import get_settings
from notifications.outbox import enqueue
from notifications.testing import LoopbackSmtp
from store.db import get_engine
from tests import factories as f


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    with LoopbackSmtp() as server:
        monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))
        monkeypatch.delenv("M3_DATABASE_URL", raising=False)
        monkeypatch.setenv("M3_SMTP_PORT", str(server.port))
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


def test_outbox__cli_send_then_show(cli_env):
    from cli.main import app

    engine = get_engine()
    now = datetime(2026, 4, 15, 8, 30, tzinfo=timezone.utc)
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
        enqueue(conn, kind="client_email", channel="email", dedupe_key="c:cli", now=now, case_id=case_id,
                recipient="marie.dupont@example.fr")
        enqueue(conn, kind="client_letter", channel="letter", dedupe_key="l:cli", now=now, case_id=case_id)
    runner = CliRunner()
    shown = runner.invoke(app, ["outbox", "--status", "pending"])
    assert shown.exit_code == 0, shown.output
    assert "client_email" in shown.output and "pending" in shown.output
    sent = runner.invoke(app, ["send", "--today", "2026-04-15"])
    assert sent.exit_code == 0, sent.output
    assert "envoyés 2 (dont courriers 1)" in sent.output
    assert len(cli_env.handler.messages) == 1
    assert list((get_settings().letters_dir / "2026-04-15").glob("letter-*-case-*.pdf"))
    again = runner.invoke(app, ["send", "--today", "2026-04-15"])
    assert "envoyés 0" in again.output
    assert runner.invoke(app, ["outbox", "--status", "nope"]).exit_code != 0
