"""The search in SQL (api/queries/search.py over the stored folded keys) finds exactly the cases
the rule in Python (Terms.matches) finds, on both databases: accents and capitals ignored
("helene" finds Hélène), a phone however it is typed ("06 12 34 56 78"), numbers. And the
searches of "Mes dossiers" (agency-wide) and of compliance find them through the pages' queries."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from api.queries import compliance, worklist
from api.queries.search import Terms
from store.snapshot import CASE, CASE_CONTRACT, CLIENT
from tests import factories as f

PEOPLE = [
    dict(first_name="Hélène", last_name="Léger", phone="+33612345678"),
    dict(first_name="Helene", last_name="Legrand", phone="+33611223344"),
    dict(first_name="Jean-Pierre", last_name="Lœuvre", phone="+33491000000"),
    dict(first_name="Zoé", last_name="D'Aubigné", phone=None),
    dict(first_name="Marc", last_name="Dupont", phone="+262692123456", postal_code="97400"),
    dict(kind="entreprise", first_name="Anne", last_name="Martin", company_name="Boulangerie Ça Va SARL",
         phone="+33442000001"),
    dict(first_name="Émile", last_name="100% Bio_Test", phone="+33612340000"),
]
QUERIES = ["helene", "HÉLÈNE", "leger helene", "hel", "lene", "legrand", "06 12 34 56 78", "06.12.34.56.78",
           "+33 6 12 34 56 78", "0612", "0612 34", "+33 6 12", "06 99 99 99 99", "pierre", "jean-pierre", "loeuvre",
           "lœuvre", "d'aubigne", "aubigne", "zoe", "0692 12 34 56", "0692", "ca va", "boulangerie", "sarl anne",
           "emile", "100%", "bio_test", "%", "_", "martin", "zz", "ma", "42", "2026", "k-2026", "cl", "personne"]


@pytest.fixture
def book(engine):
    """Clients with their cases (one contract each, numbered K-2026-00n) in Corniche."""
    out = []
    with engine.begin() as conn:
        adv = f.advisor(conn)
        for i, person in enumerate(PEOPLE, start=1):
            person = dict(person)
            kind = person.pop("kind", "particulier")
            cl = f.client(conn, kind, advisor_id=adv, **person)
            k = f.contract(conn, cl, id=f"K-2026-00{i}", effective=date(2026, 1, 15))
            out.append(f.case(conn, cl, [k], adv))
    return out


def _python(conn, q: str) -> set[int]:
    terms = Terms.parse(q)
    rows = conn.execute(select(CASE.c.id, CASE.c.client_id, CLIENT.c.first_name, CLIENT.c.last_name,
                               CLIENT.c.company_name, CLIENT.c.phone)
                        .join(CLIENT, CLIENT.c.id == CASE.c.client_id)).all()
    contracts: dict[int, list[str]] = {}
    for case_id, contract_id in conn.execute(select(CASE_CONTRACT.c.case_id, CASE_CONTRACT.c.contract_id)):
        contracts.setdefault(case_id, []).append(contract_id)
    return {r.id for r in rows if terms.matches(names=[r.first_name, r.last_name, r.company_name], phone=r.phone,
                                                 numbers=[str(r.id), r.client_id, *contracts.get(r.id, [])])}


def test_search__sql_finds_what_the_rule_finds(engine, book):
    with engine.connect() as conn:
        for q in QUERIES + [str(book[0]), f"cl{book[0]}"]:
            terms = Terms.parse(q)
            found = set(conn.execute(worklist._found([CASE.c.agency_id == "corniche"], terms)).scalars())
            assert found == _python(conn, q), q


def test_search__the_rule_finds_hélène_and_a_spaced_phone(engine, book):
    with engine.connect() as conn:
        assert _python(conn, "helene") == {book[0], book[1]}
        assert _python(conn, "leger helene") == {book[0]}
        assert _python(conn, "06 12 34 56 78") == {book[0]}
        assert _python(conn, "0692 12 34 56") == {book[4]}  # a Réunion mobile, typed nationally
        assert _python(conn, "k-2026-003") == {book[2]} and _python(conn, "2026-00") == set(book)


def test_search__agency_wide_list_and_compliance_use_it(engine, book, now):
    with engine.connect() as conn:
        wl = worklist.load(conn, worklist.Filters(scope="corniche", q="HELENE leger"), now)
        assert [i.id for i in wl.callable + wl.others + wl.appointments] == [book[0]]
        wl = worklist.load(conn, worklist.Filters(scope="corniche", q="06 12 34 56 78"), now)
        assert wl.total == 1
        hits, more = compliance.search(conn, "helene")
        assert {h.name for h in hits} == {"Hélène Léger", "Helene Legrand"} and not more
        hits, _ = compliance.search(conn, "06 12 34 56 78")
        assert [h.name for h in hits] == ["Hélène Léger"]
        hits, _ = compliance.search(conn, "lœuvre")
        assert [h.name for h in hits] == ["Jean-Pierre Lœuvre"]
