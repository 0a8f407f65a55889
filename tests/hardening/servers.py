"""Real servers for the hardening suite: a database the test creates, a book seeded in it,
uvicorn processes started on loopback (two workers), killed and restarted at will.

Every server writes its stderr (uvicorn's lines and the application's `m3.*` logs at INFO) to
a file that the log scan reads (tests/hardening/logscan.py).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from sqlalchemy import create_engine, insert, text

from tests.hardening import logscan

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = os.environ.get("M3_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "hardening horse battery"
AUTO_CODES = ("dp", "devis", "carte_grise", "permis", "releve_information", "cni")
START_TIMEOUT_S = 120  # a loaded 2-core machine imports the app in 5-15 s per process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgDatabase:
    """A PostgreSQL database of the test's own on the shared server, dropped at the end."""

    def __init__(self, label: str) -> None:
        self.name = f"m3_hard_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = self._admin.url.set(database=self.name).render_as_string(hide_password=False)

    def url_via(self, port: int) -> str:
        """The same database through another port (the outage proxy)."""
        return self._admin.url.set(database=self.name, host="127.0.0.1", port=port).render_as_string(
            hide_password=False)

    def drop(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


@dataclass
class Seeded:
    """What the load clients need: users (token, password), the cases of each advisor with
    their contract, the shared "hot" cases of each agency (raced on by every client)."""

    url: str
    admin_token: str
    advisors: list[dict] = field(default_factory=list)  # {username, token, agency, advisor_id, cases}
    contract_of: dict[int, str] = field(default_factory=dict)
    hot: dict[str, list[int]] = field(default_factory=dict)
    case_ids: list[int] = field(default_factory=list)


def seed(url: str, n_cases: int, advisors_per_agency: int = 4) -> Seeded:
    """Migrate and fill the database: n_cases open cases over two agencies, an advisor user
    (token and password) per advisor, an admin. Client names, emails and phones are registered
    with the log scan."""
    from api import auth
    from api.roles import Role
    from states.calendar import contact_window, due_date
    from store.cases import NewCase, open_cases
    from store.db import make_engine, upgrade
    from store.tables import Advisor, Client, Contract
    from tests.factories import VALID_PARTICULIER

    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(timezone.utc)
    eff = date(2026, 1, 15)
    due = due_date(eff)
    start, end = contact_window(due)
    # Cheap argon2 parameters for the seeded users: the load measures the engine, not a brute
    # force's cost (the hashes carry their parameters, so the servers verify them as cheaply).
    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    saved, auth._hasher = auth._hasher, cheap
    out = Seeded(url, "")
    names, emails, phones = set(), set(), set()
    try:
        with engine.begin() as conn:
            advisors = []
            for agency in ("corniche", "rouviere"):
                for k in range(advisors_per_agency):
                    adv = conn.execute(insert(Advisor.__table__).values(
                        name=f"Conseillère Charge{agency[:3]}{k}", agency_id=agency, active=True,
                        email=f"charge.{agency}{k}@agence.example").returning(Advisor.__table__.c.id)).scalar_one()
                    advisors.append((agency, adv))
            clients, contracts, new_cases = [], [], []
            for i in range(n_cases):
                agency, adv = advisors[i % len(advisors)]
                last, first = f"Hardelot{i:04d}", f"Solange{i:04d}"
                email, phone = f"solange.hardelot{i:04d}@example.fr", f"+3361234{i:04d}"
                names.update({last, first, f"{first} {last}"})
                emails.add(email)
                phones.update({phone, "0" + phone[3:]})
                clients.append(dict(VALID_PARTICULIER, id=f"H{i}", last_name=last, first_name=first, email=email,
                                    phone=phone, agency_id=agency, advisor_id=adv))
                contracts.append(dict(id=f"HK{i}", client_id=f"H{i}", family="IARD", product="Auto",
                                      effective_date=eff, status="active", premium_eur=600))
                new_cases.append(NewCase(f"H{i}", agency, [f"HK{i}"], f"{due:%Y-%m}", due, start, end, adv))
            conn.execute(insert(Client.__table__), clients)
            conn.execute(insert(Contract.__table__), contracts)
            ids = open_cases(conn, new_cases, "system:hardening", now)
            out.case_ids = ids
            by_adv: dict[int, list[int]] = {}
            for case_id, nc in zip(ids, new_cases):
                by_adv.setdefault(nc.assigned_advisor_id, []).append(case_id)
                out.contract_of[case_id] = nc.contract_ids[0]
            for agency, adv in advisors:
                username = f"conseil{adv}"
                _, token = auth.create_user(conn, username, Role.ADVISOR, agency, now, advisor_id=adv)
                out.advisors.append(dict(username=username, token=token, agency=agency, advisor_id=adv,
                                         cases=by_adv.get(adv, [])))
                out.hot.setdefault(agency, []).extend(by_adv.get(adv, [])[:2])
            _, out.admin_token = auth.create_user(conn, "admin-hardening", Role.ADMIN, None, now)
        with engine.begin() as conn:
            for a in out.advisors:
                auth.set_password(conn, a["username"], PASSWORD, now, min_length=8)
    finally:
        auth._hasher = saved
        engine.dispose()
    names.update(VALID_PARTICULIER[k] for k in ("last_name", "first_name"))
    logscan.register_values(names, emails, phones)
    return out


def _log_config(path: Path) -> Path:
    """uvicorn's --log-config: its own lines and the application's m3.* records at INFO, to stderr."""
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"}
    path.write_text(json.dumps({
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"}},
        "handlers": {"stderr": handler},
        "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                    "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
                    "m3": {"level": "INFO"}},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }))
    return path


class Server:
    """`uvicorn --factory api.app:create_app --workers N` on a free loopback port, in its own
    process group (so a SIGKILL takes the supervisor and its workers at once)."""

    def __init__(self, url: str, workdir: Path, workers: int = 2, env: dict[str, str] | None = None,
                 label: str = "server") -> None:
        self.url, self.workdir, self.workers, self.label = url, Path(workdir), workers, label
        self.port = free_port()
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.secret = secrets.token_urlsafe(48)  # the same for every start: sessions survive a restart

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        stderr = logscan.register_file(f"{self.label} stderr (start {self.starts})",
                                       self.workdir / f"{self.label}-{self.starts}.stderr")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("M3_", "PREFECT_API"))}
        env.update(M3_DATABASE_URL=self.url, M3_DATA_DIR=str(self.workdir / "data"), M3_SESSION_SECRET=self.secret,
                   M3_SCRIPTS_DIR=str(self.workdir / "scripts"), PYTHONPATH=str(ROOT), **self.extra_env)
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", str(self.workers), "--no-access-log",
               "--log-config", str(_log_config(self.workdir / "log-config.json")), "--timeout-graceful-shutdown", "3"]
        with open(stderr, "wb") as err:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                         start_new_session=True)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Both workers answer /api/ready (a fresh connection each time reaches either)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        ok = 0
        with httpx.Client(timeout=5) as c:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.label} exited with {self.proc.returncode}: {self.stderr_tail()}")
                try:
                    ok = ok + 1 if c.get(f"{self.base}/api/ready", headers={"Connection": "close"}
                                         ).status_code == 200 else 0
                except httpx.TransportError:
                    ok = 0
                if ok >= 4:
                    return
                time.sleep(0.2)  # waiting for a process to come up, bounded by the deadline
        raise RuntimeError(f"{self.label} not ready in {START_TIMEOUT_S} s: {self.stderr_tail()}")

    def stderr_tail(self, n: int = 3000) -> str:
        path = self.workdir / f"{self.label}-{self.starts}.stderr"
        return path.read_text(errors="replace")[-n:] if path.exists() else ""

    def sigkill(self) -> None:
        """SIGKILL the supervisor and every worker at once (no shutdown, no cleanup)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._reap_group()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        self._reap_group()

    def _reap_group(self) -> None:
        # The workers are in the supervisor's group: make sure none outlives it.
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
