"""`m3 products unknown`: the product names the documents rules do not recognise, for the agency to map."""
from __future__ import annotations

import json
from datetime import date

from store.products import unknown_products
from tests import factories as f


def test_products__unknown_names_with_their_contracts_and_open_cases(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        cl = f.client(conn, advisor_id=adv)
        k1 = f.contract(conn, cl, product="Assurance chien et chat", effective=date(2026, 1, 5))
        f.contract(conn, cl, family="Santé", product="Assurance chien et chat", effective=date(2026, 1, 6))
        f.contract(conn, cl, product="Bateau de plaisance", status="cancelled")  # not active: not listed
        f.contract(conn, cl, product="Garantie autonomie dépendance", family="Prévoyance")  # known
        f.case(conn, cl, [k1], adv)
        rows = unknown_products(conn)
    assert [(r.product, r.families, r.contracts, r.open_cases) for r in rows] == [
        ("Assurance chien et chat", ["IARD", "Santé"], 2, 1)]


def test_cli__products_unknown_and_match(m3, engine):
    with engine.begin() as conn:
        cl = f.client(conn)
        f.contract(conn, cl, product="Assurance chien et chat")
    res = m3("products", "unknown")
    assert res.exit_code == 0, res.output
    assert "Assurance chien et chat" in res.stdout and "1 produit(s) non reconnu(s)" in res.stdout
    res = m3("products", "unknown", "--json")
    assert json.loads(res.stdout) == [{"product": "Assurance chien et chat", "families": ["IARD"], "contracts": 1,
                                       "open_cases": 0}]
    res = m3("products", "match", "Super Protection Juridique")
    assert res.exit_code == 0 and "reconnu (protection juridique)" in res.stdout and "aucun risque" in res.stdout
    assert "produit non reconnu" in m3("products", "match", "Perle rare").stdout
