"""Issue 9, hole 1 (import side), on both databases: a CRM email that cannot be a mail header is
a defective CRM field like the others: the row is imported, the value stored as the import
stores every field (trimmed), the fiche checklist shows it to correct, and the escalation's
email guard refuses it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from states.fiche import checklist
from states.guards import email_allowed
from store.importer import import_file
from store.snapshot import case_row, client_record, snapshot
from store.tables import Client
from tests import factories as f
from tests.import_csv import row, write_csv

POISONED = {
    "C1": "marie@example.fr\r\nBcc: x@evil.example",  # a second header
    "C2": "josé@example.fr",  # email-validator accepts it; our plain-SMTP messages cannot address it
    "C3": "marie@example.fr\nX-Injected: 1",
}


def test_importer__an_email_that_cannot_be_a_header_is_stored_and_to_correct(engine, tmp_path):
    rows = [row(contract_id=f"K{cid}", client_id=cid, email=email) for cid, email in POISONED.items()]
    rows += [row(contract_id="KC4", client_id="C4", email="paul.martin@example.fr\r\n")]  # a trailing line break
    summary = import_file(engine, write_csv(tmp_path / "book.csv", rows))
    assert (summary.imported, summary.rejected) == (4, 0), summary.rejections
    with engine.connect() as conn:
        stored = dict(conn.execute(select(Client.__table__.c.id, Client.__table__.c.email)).all())
    assert stored == {**POISONED, "C4": "paul.martin@example.fr"}  # as given, trimmed like every field
    for cid, email in POISONED.items():
        items = {i.field: i for i in checklist(_record(engine, cid), True)}
        assert not items["email"].ok and items["email"].reason.startswith("email invalide"), cid
    assert {i.field: i for i in checklist(_record(engine, "C4"), True)}["email"].ok


@pytest.mark.parametrize("cid", sorted(POISONED))
def test_importer__the_escalation_email_guard_refuses_it(engine, tmp_path, cid):
    import_file(engine, write_csv(tmp_path / "book.csv", [row(contract_id="K1", client_id=cid, email=POISONED[cid])]))
    with engine.begin() as conn:
        case_id = f.case(conn, cid, ["K1"], None)
    with engine.connect() as conn:
        case = snapshot(conn, case_row(conn, case_id))
    assert [u.code for u in email_allowed(case, {})] == ["email"]


def _record(engine, cid):
    with engine.connect() as conn:
        return client_record(conn.execute(select(Client.__table__).where(Client.__table__.c.id == cid)).one())
