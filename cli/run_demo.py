"""`./dev run`: set the product up on the embedded SQLite database and run it.

Migrates the schema, writes the demo book and imports it (first time only), shows what the
database holds, opens the current month's cohort, creates an admin user (first time only),
then runs the API server and the scheduled flows side by side until Ctrl-C.
Each step is an ordinary `m3` command, so a user can replay any of them by hand.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

M3 = [sys.executable, "-m", "cli"]


def m3(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    print(f"\n$ m3 {' '.join(args)}", flush=True)
    return subprocess.run([*M3, *args], check=check)


def has_command(name: str) -> bool:
    out = subprocess.run([*M3, "--help"], capture_output=True, text=True).stdout
    return f" {name} " in out


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


def _interrupt(signum, frame):  # noqa: ANN001
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything too, like Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    data = Path(os.environ.get("M3_DATA_DIR", "var"))
    data.mkdir(parents=True, exist_ok=True)
    m3("db", "upgrade")
    book = data / "demo_book.csv"
    first_time = not (data / ".demo-imported").exists()
    if first_time:
        m3("demo-data", "--out", str(book))
        m3("import", str(book))
        _demo_advisor_emails()
        (data / ".demo-imported").touch()
    m3("status")
    if has_command("cohort"):
        m3("cohort", "--month", f"{date.today():%Y-%m}")
    if not has_command("serve"):
        return 0
    token_file = data / "admin-token.txt"
    if not token_file.exists():
        out = subprocess.run([*M3, "user", "add", "admin", "--role", "admin"], capture_output=True, text=True)
        if out.returncode == 0:
            token_file.write_text(out.stdout)
            token_file.chmod(0o600)
    print(f"\nAdmin token (kept in {token_file}):\n{token_file.read_text().strip() if token_file.exists() else '?'}")
    procs = [subprocess.Popen([*M3, "serve"], start_new_session=True)]
    if has_command("worker"):
        procs.append(subprocess.Popen([*M3, "worker"], start_new_session=True))
    print("\nAPI on http://127.0.0.1:8000/docs — Ctrl-C stops everything.", flush=True)
    try:
        while all(p.poll() is None for p in procs):
            try:
                procs[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        pass
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
