"""A case's document counts are written with its row when it opens (store.completeness.counts_of_new):
the same figures store.completeness.counts reads from the stored rows afterwards."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from states.calendar import contact_window, due_date
from store import completeness
from store.cases import NewCase, open_cases
from store.snapshot import CASE
from tests import factories as f


def test_opening__document_counts_match_the_rule_read_from_the_stored_rows(engine, now):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        new = []
        for i, (kind, product) in enumerate([("particulier", "Auto"), ("professionnel", "Assurance vie"),
                                             ("entreprise", "Santé individuelle"), ("particulier", "Habitation")]):
            cl = f.client(conn, kind, advisor_id=adv)
            ks = [f.contract(conn, cl, product=product, family={"Auto": "IARD", "Habitation": "IARD",
                                                                 "Assurance vie": "Épargne"}.get(product, "Santé"))]
            if i % 2:
                ks.append(f.contract(conn, cl, product="Auto"))
            for code in ("devis", "dp", "cni", "kbis_ou_insee")[: i + 1]:
                f.requirement(conn, ks[0], code, status=("received", "validated", "waived", "missing")[i])
            due = due_date(date(2026, 1, 15))
            start, end = contact_window(due)
            new.append(NewCase(cl, "corniche", ks, "2026-04", due, start, end, adv))
        new.append(NewCase(cl, "corniche", [], "2026-04", due, start, end, adv))  # no contract: nothing required
        ids = open_cases(conn, new, "system:test", now)
        stored = {r.id: (r.documents_required, r.documents_satisfied) for r in conn.execute(
            select(CASE.c.id, CASE.c.documents_required, CASE.c.documents_satisfied).where(CASE.c.id.in_(ids)))}
        assert stored == completeness.counts(conn, ids)
        assert any(s > 0 for _, s in stored.values()) and any(r > 0 for r, _ in stored.values())
