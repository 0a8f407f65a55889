"""`m3 advisors email`: the address digests go to, validated and stored normalised."""
from sqlalchemy import select

from store.tables import Advisor
from tests import factories as f


def test_cli_advisors__email_sets_a_valid_address_and_refuses_a_bad_one(m3, cli_db):
    with cli_db.begin() as conn:
        adv = f.advisor(conn, name="Léa Garcia", email=None)
    assert m3("advisors", "email", "Léa Garcia", "lea.garcia@agence.example").exit_code == 0
    bad = m3("advisors", "email", adv, "lea.garcia")
    assert bad.exit_code == 1 and "email invalide" in bad.output
    with cli_db.connect() as conn:
        assert conn.execute(select(Advisor.email).where(Advisor.id == adv)).scalar_one() == "lea.garcia@agence.example"
