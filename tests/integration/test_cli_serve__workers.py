"""`m3 serve --workers N` runs N server processes (uvicorn workers), refuses --reload with several."""
from __future__ import annotations

import uvicorn


def _serve(m3, monkeypatch, *args):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    monkeypatch.setenv("M3_HTTP_PORT", "8791")
    result = m3("serve", *args)
    return result, calls


def test_cli_serve__workers_are_passed_to_uvicorn(m3, monkeypatch, tmp_path):
    monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))
    result, calls = _serve(m3, monkeypatch, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert calls[0]["workers"] == 2 and calls[0]["factory"] is True
    assert (tmp_path / "session-secret").exists()  # created before the workers start: they share it


def test_cli_serve__one_process_by_default(m3, monkeypatch, tmp_path):
    monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))
    result, calls = _serve(m3, monkeypatch)
    assert result.exit_code == 0 and calls[0]["workers"] is None


def test_cli_serve__reload_with_several_workers_is_refused_in_french(m3, monkeypatch, tmp_path):
    monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))
    result, calls = _serve(m3, monkeypatch, "--workers", "2", "--reload")
    assert result.exit_code == 2 and calls == [] and "un seul processus" in result.output
