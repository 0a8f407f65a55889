"""`m3 user add | list | revoke`: the token is printed once, stored only as an argon2 hash."""
from sqlalchemy import select

from api.auth import USER
from tests import factories as f


def test_cli_user__add_prints_a_token_once_and_stores_only_its_hash(m3, cli_db):
    with cli_db.begin() as conn:
        adv = f.advisor(conn, name="Julien Martin")
    result = m3("user", "add", "julien", "--role", "advisor", "--agency", "corniche", "--advisor-id", adv)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("m3_")
    with cli_db.connect() as conn:
        row = conn.execute(select(USER).where(USER.c.username == "julien")).one()
    assert row.advisor_id == adv and row.role == "advisor" and row.agency_id == "corniche"
    assert token.split(".", 1)[1] not in row.token_hash and row.token_hash.startswith("$argon2")
    listing = m3("user", "list")
    assert "julien" in listing.stdout and token not in listing.stdout


def test_cli_user__add_refuses_an_unknown_role_and_an_advisor_without_agency(m3):
    assert m3("user", "add", "x", "--role", "boss").exit_code != 0
    assert m3("user", "add", "y", "--role", "advisor").exit_code == 1


def test_cli_user__revoke_deactivates_and_unknown_user_exits_1(m3, cli_db):
    assert m3("user", "add", "dpo", "--role", "compliance").exit_code == 0
    assert m3("user", "revoke", "dpo").exit_code == 0
    with cli_db.connect() as conn:
        assert conn.execute(select(USER.c.active).where(USER.c.username == "dpo")).scalar_one() is False
    assert m3("user", "revoke", "nobody").exit_code == 1
