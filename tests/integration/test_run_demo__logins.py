"""The demo logins of `./dev run`: one user per role with a password that logs in, written once
to the data folder, readable by the owner only; the advisor is the busiest one of Corniche."""
from __future__ import annotations

import stat
from datetime import date

from argon2 import PasswordHasher

from api import auth
from cli.run_demo import create_demo_logins, write_logins
from tests import factories as f


def test_run_demo__one_login_per_role_that_logs_in_written_0600(engine, now, tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    with engine.begin() as conn:
        quiet = f.advisor(conn, name="Alice Calme")
        busy = f.advisor(conn, name="Zoé Chargée")
        for adv, n in ((quiet, 1), (busy, 2)):
            for _ in range(n):
                cl = f.client(conn, advisor_id=adv)
                f.case(conn, cl, [f.contract(conn, cl)], adv)
    logins = create_demo_logins(engine, now, 12)
    assert [(x.role, x.username) for x in logins] == [("advisor", "conseiller"), ("manager", "responsable"),
                                                      ("compliance", "conformite"), ("admin", "admin")]
    assert "Zoé Chargée" in logins[0].detail
    for x in logins:
        assert len(x.password) >= 12
        found = auth.authenticate(engine, x.username, x.password, now)
        assert found is not None and found[0].role.value == x.role
    assert auth.authenticate(engine, "conseiller", logins[0].password, now)[0].advisor_id == busy
    path = tmp_path / "demo-logins.txt"
    write_logins(path, logins, "http://127.0.0.1:8000", date(2026, 4, 15))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert all(x.password in text for x in logins) and "http://127.0.0.1:8000/connexion" in text
    # Again on the same database (the file was deleted): the users get new passwords, no error.
    again = create_demo_logins(engine, now, 12)
    assert auth.authenticate(engine, "admin", again[-1].password, now) is not None
    assert auth.authenticate(engine, "admin", logins[-1].password, now) is None
