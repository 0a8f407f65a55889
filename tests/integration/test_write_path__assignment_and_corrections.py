"""ConfirmAssignment moves the case with its client; corrections are kept for the next import.
Both databases (the `engine` fixture)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from states.commands import ConfirmAssignment, CorrectClient
from states.errors import InvalidChange
from store.tables import Client, ClientCorrection
from store.write_path import execute
from tests import factories as f
from tests.integration.db_helpers import case_dict

CORRECTION = ClientCorrection.__table__


def _corrections(engine):
    with engine.connect() as conn:
        return {r.field: r for r in conn.execute(select(CORRECTION)).all()}


def test_write_path__confirming_another_agency_moves_the_case_and_keeps_both_corrections(engine, now):
    with engine.begin() as conn:
        case_id, adv, client_id, _ = f.ready_case(conn)
        luc = f.advisor(conn, agency_id="rouviere")

    result = execute(engine, case_id, 1, ConfirmAssignment("rouviere", luc), "user:marie", now)

    case = case_dict(engine, case_id)
    assert (case["agency_id"], case["assigned_advisor_id"], case["assignment_confirmed"]) == ("rouviere", luc, True)
    assert result.changes["case.agency_id"] == ["corniche", "rouviere"]
    with engine.connect() as conn:
        client = conn.execute(select(Client.__table__).where(Client.id == client_id)).one()
    assert (client.agency_id, client.advisor_id) == ("rouviere", luc)
    kept = _corrections(engine)
    assert {k: (r.crm_value_before, r.corrected_value) for k, r in kept.items()} == {
        "agency_id": ("corniche", "rouviere"), "advisor_id": (str(adv), str(luc))}
    assert {(r.client_id, r.case_id, r.audit_seq, r.exported_at) for r in kept.values()} == {
        (client_id, case_id, 2, None)}


def test_write_path__confirming_an_advisor_of_another_agency_changes_nothing(engine, now):
    with engine.begin() as conn:
        case_id, adv, _, _ = f.ready_case(conn)
    with pytest.raises(InvalidChange):
        execute(engine, case_id, 1, ConfirmAssignment("rouviere", adv), "user:marie", now)
    assert case_dict(engine, case_id)["agency_id"] == "corniche" and _corrections(engine) == {}


def test_write_path__fields_the_crm_does_not_carry_leave_no_correction(engine, now):
    with engine.begin() as conn:
        case_id, _, _, _ = f.ready_case(conn)
    execute(engine, case_id, 1, CorrectClient({"opposition_email": True, "city": "Cassis"}), "user:marie", now)
    assert list(_corrections(engine)) == ["city"]
