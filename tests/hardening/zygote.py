"""Run `m3 ...` commands as real processes that the test can SIGKILL at any point of their work.

Importing the command line costs 3-9 s of CPU on this machine (SQLModel, the app's modules),
which would hide the work itself: a kill "at a random point" would almost always land in the
imports. So one helper process imports `cli.main` once, then forks a child per command: each
child is a fresh process running the real `m3` entry point with its own environment, its own
database connections (none exist before the fork), its own stdout and stderr files. The test
kills the child's pid; the helper reaps it and reports how it ended.

Protocol (one JSON object per line): the test sends {"args", "env", "out", "err"}; the helper
answers {"pid"} once the child runs, then {"pid", "exit"} (exit code, or -signal).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _child(req: dict) -> None:
    os.setpgid(0, 0)
    for fd, path in ((1, req["out"]), (2, req["err"])):
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(f, fd)
        os.close(f)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    for k in [k for k in os.environ if k.startswith("M3_")]:
        del os.environ[k]
    os.environ.update(req["env"])
    import config
    import store.db

    config.get_settings.cache_clear()
    store.db.engine_for.cache_clear()
    from cli.main import app

    code = 0
    try:
        app(req["args"], prog_name="m3", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report it as a crash, with its traceback on stderr
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    import cli.main  # noqa: F401  (the imports every child inherits)
    import cli.cmd_audit, cli.cmd_flows, cli.cmd_import, cli.cmd_outbox  # noqa: F401,E401

    out = sys.stdout
    lock = threading.Lock()

    def reply(obj: dict) -> None:
        with lock:
            out.write(json.dumps(obj) + "\n")
            out.flush()

    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(req)
        reply({"pid": pid})
        _, status = os.waitpid(pid, 0)
        reply({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})


class Zygote:
    """The test's side: start the helper, run commands, kill them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.n = 0
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env = {k: v for k, v in env.items() if not k.startswith(("M3_", "PREFECT_API"))}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.hardening.zygote"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def start(self, args: list[str], env: dict[str, str]) -> tuple[int, Path, Path]:
        self.n += 1
        out, err = self.workdir / f"run-{self.n}.out", self.workdir / f"run-{self.n}.err"
        from tests.hardening import logscan

        logscan.register_file(f"m3 {args[0] if args else ''} stderr (forked run {self.n})", err)
        self.proc.stdin.write(json.dumps({"args": [str(a) for a in args], "env": env, "out": str(out),
                                          "err": str(err)}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the zygote died")
        return json.loads(line)["pid"], out, err

    def wait(self) -> int:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the zygote died")
        return json.loads(line)["exit"]

    def run(self, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        """Run to the end: (exit code, stdout, stderr)."""
        _, out, err = self.start(args, env)
        code = self.wait()
        return code, out.read_text(errors="replace"), err.read_text(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


if __name__ == "__main__":
    main()
