"""`m3 user add --password` / `m3 user password`: a page password, stored as an argon2 hash only."""
from __future__ import annotations

from datetime import datetime, timezone

from argon2 import PasswordHasher
from sqlalchemy import select
from typer.testing import CliRunner

from api import auth
from api.auth import USER
from cli.main import app


def _run(*args, input: str | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def _hash(engine, username: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(USER.c.password_hash).where(USER.c.username == username)).scalar_one()


def test_cli_user__add_with_password_from_stdin_lets_the_user_log_in(cli_db, monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    r = _run("user", "add", "dpo", "--role", "compliance", "--password-stdin", input="une phrase de passe\n")
    assert r.exit_code == 0, r.output
    stored = _hash(cli_db, "dpo")
    assert stored.startswith("$argon2") and "une phrase" not in stored
    now = datetime.now(timezone.utc)
    assert auth.authenticate(cli_db, "dpo", "une phrase de passe", now) is not None
    assert auth.authenticate(cli_db, "dpo", "une autre phrase", now) is None


def test_cli_user__password_is_asked_twice_without_echo(cli_db, monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    assert _run("user", "add", "chef", "--role", "admin").exit_code == 0
    assert _hash(cli_db, "chef") is None
    r = _run("user", "password", "chef", input="mot de passe long\nmot de passe long\n")
    assert r.exit_code == 0, r.output
    assert "mot de passe long" not in r.output  # hidden input is not echoed
    assert auth.authenticate(cli_db, "chef", "mot de passe long", datetime.now(timezone.utc)) is not None


def test_cli_user__short_password_and_unknown_user_exit_1(cli_db):
    assert _run("user", "add", "x", "--role", "admin", "--password-stdin", input="court\n").exit_code == 1
    with cli_db.connect() as conn:
        assert conn.execute(select(USER.c.id).where(USER.c.username == "x")).first() is None  # nothing created
    assert _run("user", "password", "personne", "--password-stdin", input="assez long pour passer\n").exit_code == 1


def test_cli_user__mismatched_password_is_asked_again_with_a_french_error(cli_db, monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    assert _run("user", "add", "chef", "--role", "admin").exit_code == 0
    r = _run("user", "password", "chef", input="premier essai long\nune autre saisie\nmot de passe long\nmot de passe long\n")
    assert r.exit_code == 0, r.output
    assert "Erreur : les deux saisies ne correspondent pas." in r.output
    assert "do not match" not in r.output
    now = datetime.now(timezone.utc)
    assert auth.authenticate(cli_db, "chef", "mot de passe long", now) is not None
    assert auth.authenticate(cli_db, "chef", "premier essai long", now) is None
