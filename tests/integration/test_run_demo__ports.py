"""`./dev run` (cli/run_demo.py) and `m3 serve` check their ports before starting anything: a port
taken is a French message and exit code 1, with nothing written to the data folder."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cli import ports

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def listening():
    """A port another program listens on."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    yield s.getsockname()[1]
    s.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("M3_", "PREFECT_API_URL"))}
    environ.update(M3_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)


def test_ports__taken_and_free(listening):
    assert ports.taken(listening) is True
    assert ports.taken(_free_port()) is False


def test_run_demo__http_port_taken_exits_1_in_french_before_anything(listening, tmp_path):
    done = _run(["-m", "cli.run_demo"], tmp_path, M3_HTTP_PORT=str(listening), M3_PREFECT_PORT=str(_free_port()))
    assert done.returncode == 1
    assert f"Le port {listening} (serveur web, M3_HTTP_PORT) est déjà utilisé" in done.stderr
    assert "$ m3" not in done.stdout  # no step ran
    assert not (tmp_path / "data").exists()  # nothing written


def test_run_demo__prefect_port_taken_exits_1(listening, tmp_path):
    done = _run(["-m", "cli.run_demo"], tmp_path, M3_HTTP_PORT=str(_free_port()), M3_PREFECT_PORT=str(listening))
    assert done.returncode == 1 and "M3_PREFECT_PORT" in done.stderr and not (tmp_path / "data").exists()


def test_serve__port_taken_exits_1(listening, tmp_path):
    done = _run(["-m", "cli", "serve", "--port", str(listening)], tmp_path)
    assert done.returncode == 1 and "déjà utilisé" in done.stderr
