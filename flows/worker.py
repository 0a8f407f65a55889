"""`m3 worker`: serve the four deployments on their schedules, on one machine.

The process supervises up to two children, each in a session of its own (so a terminal's Ctrl-C
reaches only this process, which then stops them in order):
1. when no Prefect server is configured (M3_PREFECT_API_URL / PREFECT_API_URL), a local
   `prefect server start` on SQLite in `<data_dir>/prefect`, waited for on its health endpoint;
2. `python -m flows.worker serve`: Prefect's `serve` of the deployments (cohort, escalation and
   reminders on cron schedules in Europe/Paris; m3-delivery every M3_DELIVERY_EVERY_MINUTES), with
   `pause_on_shutdown=False` (serve pauses the schedules on shutdown otherwise).
Ctrl-C or SIGTERM: SIGINT to the serve child (serve handles KeyboardInterrupt cleanly), then
SIGTERM to the server's process group; whatever is still alive after a few seconds is killed.
Stopped at any moment, also while the child is still importing Prefect (several seconds), each
process says so in one French line and exits 0, without a traceback.
Measured with Prefect 3: an idle worker ignored a single SIGTERM, hence the escalation to SIGKILL.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from states.calendar import PARIS

SCHEDULES = {  # deployment name -> (flow, cron); the flows skip public holidays themselves
    "m3-cohort": ("cohort_flow", "0 6 * * *"),  # daily: opens each month's cohort once within its lead
    "m3-escalation": ("escalation_flow", "0 7 * * 1-5"),
    "m3-reminders": ("reminders_flow", "0 7 * * 1-5"),
}
# Deployments on an interval, in minutes from the settings: name -> (flow, setting).
INTERVALS = {"m3-delivery": ("delivery_flow", "delivery_every_minutes")}  # the outbox, every 5 minutes
TIMEZONE = PARIS.key  # "Europe/Paris": states.calendar, the one place
GRACE_S = 6.0
STOPPING = "m3 worker : arrêt demandé, les planifications s'arrêtent"


def _quiet_env(env: dict[str, str]) -> dict[str, str]:
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    return env


def _wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the Prefect server did not answer on {url} within {timeout_s:.0f} s")


def _stop(proc: subprocess.Popen | None, sig: int, name: str) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        print(f"m3 worker : {name} tourne encore après {GRACE_S:g} s, arrêt forcé", file=sys.stderr)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=GRACE_S)
    except ProcessLookupError:
        pass


def _raise_interrupt(signum, frame):  # noqa: ANN001
    raise KeyboardInterrupt


def main(port: int = 4200) -> int:
    from config import get_settings
    from flows.runner import prefect_api_url

    settings = get_settings()
    env = _quiet_env(dict(os.environ))
    url = prefect_api_url()
    server = serving = None
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if not url:
            home = (settings.data_dir / "prefect").resolve()
            home.mkdir(parents=True, exist_ok=True)
            env.update(PREFECT_HOME=str(home),
                       PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}")
            url = f"http://127.0.0.1:{port}/api"
            print(f"m3 worker : démarrage d'un serveur Prefect local sur {url} (données dans {home})", file=sys.stderr)
            server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                       "--port", str(port)], env=env, start_new_session=True,
                                      stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[1])
            _wait_healthy(url, server)
        env["PREFECT_API_URL"] = url
        print(f"m3 worker : planifications {', '.join([*SCHEDULES, *INTERVALS])} servies sur {url} "
              "(Ctrl-C arrête tout)",
              file=sys.stderr)
        serving = subprocess.Popen([sys.executable, "-m", "flows.worker", "serve"], env=env, start_new_session=True,
                                   cwd=Path(__file__).resolve().parents[1])
        while True:
            try:
                code = serving.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                if server is not None and server.poll() is not None:
                    print("m3 worker : le serveur Prefect s'est arrêté", file=sys.stderr)
                    return 1
                continue
            print(f"m3 worker : les planifications se sont arrêtées (code {code})", file=sys.stderr)
            return code or 1
    except KeyboardInterrupt:
        print(STOPPING, file=sys.stderr)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C while stopping: no traceback either
            signal.signal(sig, signal.SIG_IGN)
        _stop(serving, signal.SIGINT, "le service des planifications")
        _stop(server, signal.SIGTERM, "le serveur Prefect")


def deployments() -> list:
    """The deployments for `serve` (prefect.yaml declares the same for `prefect deploy`)."""
    from datetime import timedelta

    from prefect.schedules import Cron, Interval

    from config import get_settings
    from flows import prefect_flows

    settings = get_settings()
    out = [getattr(prefect_flows, flow_name).to_deployment(name, schedules=[Cron(cron, timezone=TIMEZONE)])
           for name, (flow_name, cron) in SCHEDULES.items()]
    out += [getattr(prefect_flows, flow_name).to_deployment(
                name, schedules=[Interval(timedelta(minutes=getattr(settings, setting)), timezone=TIMEZONE)])
            for name, (flow_name, setting) in INTERVALS.items()]
    return out


def _serve() -> int:
    """The serve child. Stopped (SIGINT from the parent, or SIGTERM) at any point, also while it
    is still importing Prefect (seconds): one French line and exit code 0, never a traceback."""
    # A worker started in the background inherits SIGINT ignored; the parent stops us with SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        from prefect import serve

        serve(*deployments(), pause_on_shutdown=False)
    except KeyboardInterrupt:
        _quiet_exit()
    return 0


def _quiet_exit() -> None:
    # Stopped half-way through an import, the interpreter's shutdown may still run code of that
    # half-imported library: a second interruption there must not print a traceback either.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("m3 worker : planifications arrêtées", file=sys.stderr, flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        sys.exit(_serve())
    else:
        sys.exit(main())
