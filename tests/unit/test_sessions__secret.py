"""The session secret: from M3_SESSION_SECRET, or generated once in the data folder, atomically."""
from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from api.sessions import DEV_SECRET, SessionSecretError, _secret_file, csrf_ok, idle_expired, session_secret
from config.settings import Settings


def test_sessions__configured_secret_is_used(tmp_path):
    assert session_secret(Settings(session_secret="k" * 40, data_dir=tmp_path)) == "k" * 40


def test_sessions__development_value_is_refused_unless_dev(tmp_path):
    with pytest.raises(SessionSecretError, match="change-me-in-production"):
        session_secret(Settings(session_secret=DEV_SECRET, data_dir=tmp_path))
    assert session_secret(Settings(session_secret=DEV_SECRET, dev=True, data_dir=tmp_path)) == DEV_SECRET


def test_sessions__short_secret_is_refused(tmp_path):
    with pytest.raises(SessionSecretError, match="trop court"):
        session_secret(Settings(session_secret="court", data_dir=tmp_path))


def test_sessions__generated_once_in_the_data_folder_and_kept(tmp_path):
    first = session_secret(Settings(data_dir=tmp_path))
    assert len(first) >= 48 and (tmp_path / "session-secret").read_text().strip() == first
    assert (tmp_path / "session-secret").stat().st_mode & 0o077 == 0
    assert session_secret(Settings(data_dir=tmp_path)) == first
    assert list(tmp_path.iterdir()) == [tmp_path / "session-secret"]  # no temporary file left


def _race(path: str, start, out) -> None:
    start.wait()
    out.put(_secret_file(Path(path)))


def test_sessions__processes_starting_together_agree_on_one_secret(tmp_path):
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    path = str(tmp_path / "session-secret")
    procs = [ctx.Process(target=_race, args=(path, start, out)) for _ in range(6)]
    for p in procs:
        p.start()
    start.set()
    secrets = {out.get(timeout=30) for _ in procs}
    for p in procs:
        p.join(30)
    assert len(secrets) == 1 and secrets == {Path(path).read_text().strip()}


def test_sessions__idle_expiry_and_csrf_comparison():
    from datetime import datetime, timedelta, timezone

    now = datetime(2026, 4, 15, 8, tzinfo=timezone.utc)
    session = {"seen": int(now.timestamp()), "csrf": "abc"}
    assert not idle_expired(session, now + timedelta(hours=10), 10)
    assert idle_expired(session, now + timedelta(hours=10, seconds=1), 10)
    assert idle_expired({}, now, 10)
    assert csrf_ok(session, "abc") and not csrf_ok(session, "abd") and not csrf_ok(session, None)
    assert not csrf_ok({}, "abc")
