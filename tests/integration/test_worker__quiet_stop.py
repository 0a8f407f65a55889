"""`m3 worker` stopped (SIGINT, SIGTERM) while its serve child is still importing Prefect: one
French line per process, exit code 0, no traceback (issue 9, hole 1's "while there").

Importing Prefect takes seconds; to stop the child *inside* that import every time, a
`sitecustomize` on PYTHONPATH installs an import hook that announces the import of `prefect`
on standard error and then holds it, as a slow import would, until the signal arrives."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "test-hook: importing prefect"
HOOK = f'''
import sys, time

class _SlowPrefect:
    def find_spec(self, name, path=None, target=None):
        if name == "prefect":
            print("{MARKER}", file=sys.stderr, flush=True)
            time.sleep(120)  # "still importing": the signal interrupts it
        return None

sys.meta_path.insert(0, _SlowPrefect())
'''


@pytest.fixture
def hooked_env(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK, "utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hook), str(ROOT)]), M3_DATA_DIR=str(tmp_path),
               PREFECT_API_URL="http://127.0.0.1:9/api", PREFECT_HOME=str(tmp_path / "prefect"))
    env.pop("M3_PREFECT_API_URL", None)
    return env


def _run_until_marker(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def read() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    while True:
        line = lines.get(timeout=120)
        assert line is not None, f"exited before importing Prefect: {''.join(seen)}"
        seen.append(line)
        if MARKER in line:
            break
    proc._lines = lines  # type: ignore[attr-defined]
    return proc, seen


def _finish(proc: subprocess.Popen, seen: list[str]) -> str:
    try:
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    while (line := proc._lines.get(timeout=10)) is not None:  # type: ignore[attr-defined]
        seen.append(line)
    return "".join(seen)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_worker__serve_child_stopped_while_importing_prefect_exits_quietly(hooked_env, sig):
    proc, seen = _run_until_marker([sys.executable, "-m", "flows.worker", "serve"], hooked_env)
    proc.send_signal(sig)
    err = _finish(proc, seen)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "m3 worker : planifications arrêtées" in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_worker__m3_worker_stopped_while_its_child_imports_prefect_exits_quietly(hooked_env, sig):
    proc, seen = _run_until_marker([sys.executable, "-m", "cli", "worker"], hooked_env)
    proc.send_signal(sig)  # to `m3 worker` only: it stops its child itself
    err = _finish(proc, seen)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "m3 worker : arrêt demandé, les planifications s'arrêtent" in err
    assert "m3 worker : planifications arrêtées" in err
