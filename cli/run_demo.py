"""`./dev run`: set the product up on the embedded SQLite database and run it.

1. Checks that the ports are free (M3_HTTP_PORT, default 8000; M3_PREFECT_PORT, default 4200,
   when a local Prefect server is to be started), before anything else: a port taken is a
   French message and exit code 1, nothing started and nothing written.
2. Migrates the schema.
3. The first time only: writes the demo book (seeded: the same file on every machine for a given
   date, M3_TODAY or today), imports it, gives the advisors an email address, opens the cohorts
   due, and creates one demo login per role (advisor, manager, compliance, admin) with a random
   password, written once to `<data_dir>/demo-logins.txt` (mode 0600). Later runs open the
   cohorts due (idempotent) and keep the logins.
4. Runs the server (`m3 serve`) and the scheduled flows (`m3 worker`) until Ctrl-C, and prints
   where to go and where the logins are. No token is printed and no token file is written.
Each step is an ordinary `m3` command, so a user can replay any of them by hand.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

M3 = [sys.executable, "-m", "cli"]
LOGINS_FILE = "demo-logins.txt"
ROLE_WORDS = {"advisor": "conseiller", "manager": "responsable", "compliance": "conformité", "admin": "admin"}
DEMO_AGENCY = "corniche"


@dataclass(frozen=True)
class Login:
    role: str
    username: str
    password: str
    detail: str


def m3(*args: str, check: bool = True, quiet: bool = False, pick: str = "") -> subprocess.CompletedProcess:
    """Run `m3 ARGS`; quiet: keep its output and print one line of it (the first that starts
    with `pick`, else the first), not pages of tables on every run."""
    print(f"$ m3 {' '.join(args)}", flush=True)
    if not quiet:
        return subprocess.run([*M3, *args], check=check)
    done = subprocess.run([*M3, *args], check=False, capture_output=True, text=True)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    if done.returncode != 0:
        print("\n".join(lines[-20:]), file=sys.stderr)
        if check:
            raise subprocess.CalledProcessError(done.returncode, done.args)
    elif lines:
        line = next((x for x in lines if x.startswith(pick)), lines[0]) if pick else lines[0]
        print(f"  {line.replace('**', '')}", flush=True)
    return done


def check_ports(settings) -> list[str]:
    """The French messages of the ports already taken (empty: all free)."""
    from cli import ports
    from flows.runner import prefect_api_url

    problems = []
    if ports.taken(settings.http_port):
        problems.append(ports.message(settings.http_port, "M3_HTTP_PORT", "serveur web"))
    if not prefect_api_url() and ports.taken(settings.prefect_port):  # a local Prefect server will start
        problems.append(ports.message(settings.prefect_port, "M3_PREFECT_PORT", "serveur Prefect local"))
    return problems


def _today(settings) -> date:
    if settings.today:
        from api.simulated import simulated_day
        return simulated_day(settings.today)
    from states.calendar import PARIS
    return datetime.now(timezone.utc).astimezone(PARIS).date()


def _demo_advisor_emails() -> None:
    """The CRM export carries no advisor addresses: give the demo's advisors one each, so their
    digests and reminders reach the local SMTP server (`m3 advisors email` does it by hand)."""
    import unicodedata

    from store.advisor_admin import list_advisors, set_email
    from store.db import get_engine

    with get_engine().begin() as conn:
        for adv in list_advisors(conn):
            if not adv.email:
                folded = unicodedata.normalize("NFKD", adv.name).encode("ascii", "ignore").decode()
                set_email(conn, str(adv.id), ".".join(folded.lower().split()) + "@agence.example")


def _busiest_advisor(conn, agency: str) -> tuple[int, str] | None:
    """The active advisor of `agency` with the most open cases (then by name): the demo advisor
    has a full "Mes dossiers"."""
    from sqlalchemy import func, select

    from store.snapshot import ADVISOR, CASE

    open_cases = (select(CASE.c.assigned_advisor_id.label("aid"), func.count().label("n"))
                  .where(CASE.c.state != "cloture").group_by(CASE.c.assigned_advisor_id).subquery())
    row = conn.execute(select(ADVISOR.c.id, ADVISOR.c.name).outerjoin(open_cases, open_cases.c.aid == ADVISOR.c.id)
                       .where(ADVISOR.c.agency_id == agency, ADVISOR.c.active)
                       .order_by(func.coalesce(open_cases.c.n, 0).desc(), ADVISOR.c.name).limit(1)).first()
    return (row.id, row.name) if row else None


def create_demo_logins(engine, now: datetime, min_length: int) -> list[Login]:
    """One user per role with a fresh random password. A user already there (an older data
    folder) keeps its token and gets the new password."""
    from sqlalchemy import select

    from api import auth
    from api.roles import Role

    with engine.begin() as conn:
        adv = _busiest_advisor(conn, DEMO_AGENCY)
        specs = [(Role.ADVISOR, "conseiller", DEMO_AGENCY, adv[0] if adv else None,
                  f"agence Corniche, conseiller {adv[1]}" if adv else "agence Corniche"),
                 (Role.MANAGER, "responsable", DEMO_AGENCY, None, "responsable de l'agence Corniche"),
                 (Role.COMPLIANCE, "conformite", None, None, "toutes agences, lecture seule"),
                 (Role.ADMIN, "admin", None, None, "toutes agences, tout")]
        logins = []
        for role, username, agency, advisor_id, detail in specs:
            if role is Role.ADVISOR and advisor_id is None:
                continue  # no advisor in the book: no advisor login
            exists = conn.execute(select(auth.USER.c.id).where(auth.USER.c.username == username)).first()
            if not exists:
                auth.create_user(conn, username, role, agency, now, advisor_id=advisor_id)
            password = secrets.token_urlsafe(12)  # 16 characters
            auth.set_password(conn, username, password, now, min_length)
            logins.append(Login(role.value, username, password, detail))
    return logins


def write_logins(path: Path, logins: list[Login], url: str, day: date) -> None:
    """The logins, readable by the owner only (0600), created atomically."""
    lines = [f"# Suivi M+3 — comptes de démonstration, créés le {day:%d/%m/%Y} (un par rôle).",
             f"# Connexion : {url}/connexion   · changer son mot de passe : {url}/compte",
             "# Ce fichier n'est lisible que par vous (0600). Supprimez-le pour en recréer au prochain ./dev run.",
             "", f"{'rôle':<12} {'utilisateur':<13} {'mot de passe':<18} périmètre"]
    lines += [f"{ROLE_WORDS.get(x.role, x.role):<12} {x.username:<13} {x.password:<18} {x.detail}" for x in logins]
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    path.chmod(0o600)


def _interrupt(signum, frame):  # noqa: ANN001
    raise KeyboardInterrupt


def main() -> int:
    from config import get_settings

    settings = get_settings()
    problems = check_ports(settings)
    if problems:
        for text in problems:
            print(f"erreur : {text}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything too, like Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    data = Path(settings.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    today = _today(settings)
    url = f"http://127.0.0.1:{settings.http_port}"
    m3("db", "upgrade", quiet=True)
    book = data / "demo_book.csv"
    if not (data / ".demo-imported").exists():
        m3("demo-data", "--out", str(book), "--today", today.isoformat(), quiet=True)
        m3("import", str(book), quiet=True, pick="lues")
        _demo_advisor_emails()
        (data / ".demo-imported").touch()
    m3("cohort", "--today", today.isoformat(), quiet=True, pick="Au ")  # the cohorts due; a rerun opens nothing
    logins_file = data / LOGINS_FILE
    if not logins_file.exists():
        from store.db import get_engine

        logins = create_demo_logins(get_engine(), datetime.now(timezone.utc), settings.password_min_length)
        write_logins(logins_file, logins, url, today)
    env = dict(os.environ, M3_HTTP_PORT=str(settings.http_port), M3_PREFECT_PORT=str(settings.prefect_port))
    procs = [subprocess.Popen([*M3, "serve", "--port", str(settings.http_port)], start_new_session=True, env=env),
             subprocess.Popen([*M3, "worker", "--port", str(settings.prefect_port)], start_new_session=True, env=env)]
    print(f"\nSuivi M+3 : {url}/\n"
          f"  comptes de démonstration (un par rôle, avec leur mot de passe) : {logins_file}\n"
          f"  API : {url}/docs · flows planifiés (Prefect) : http://127.0.0.1:{settings.prefect_port}\n"
          "Ctrl-C arrête tout.", flush=True)
    stopping = False
    try:
        while all(p.poll() is None for p in procs):
            try:
                procs[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        stopping = True
    finally:
        for p in procs:
            if p.poll() is None:
                # SIGTERM: uvicorn and `m3 worker` both stop cleanly on it, whatever SIGINT's state.
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    # The server or the worker stopped on its own (a port taken meanwhile, a crash): say so.
    return 0 if stopping else 1

if __name__ == "__main__":
    sys.exit(main())
