"""states.corrections: the rule a CRM import applies to a corrected field, the corrections a
change leaves behind (Row.CORRECTION), the case that moves with its client, and the import's
audit decision. Pure: no database."""
from __future__ import annotations

from decimal import Decimal

import pytest

from states.commands import ConfirmAssignment, CorrectClient, ImportClientChanges
from states.corrections import (
    CRM_FIELDS, Correction, Resolution, audit_value, correction_updates, crm_text, resolve, resolve_all,
)
from states.decide import CORRECTABLE, decide
from states.effects import Row, Update
from states.errors import InvalidChange
from tests.unit.domain_builders import PARTICULIER, case

PHONE = Correction("phone", crm_value_before="+33612345678", corrected_value="+33699887766")


def test_corrections__crm_still_sending_the_old_value_keeps_the_correction():
    assert resolve("+33612345678", PHONE) is Resolution.STANDING


def test_corrections__crm_sending_a_new_value_replaces_the_correction():
    assert resolve("+33611111111", PHONE) is Resolution.CRM_TAKEN
    assert resolve(None, PHONE) is Resolution.CRM_TAKEN  # the CRM emptied the field: that is news too


def test_corrections__crm_sending_the_corrected_value_agrees():
    assert resolve("+33699887766", PHONE) is Resolution.AGREED


def test_corrections__a_correction_back_to_the_crm_value_protects_nothing():
    undone = Correction("city", "Marseille", "Marseille")
    assert resolve("Marseille", undone) is Resolution.AGREED


AGENCY = Correction("agency_id", "corniche", "rouviere")
ADVISOR = Correction("advisor_id", "1", "3")


def test_corrections__confirmed_agency_and_advisor_stand_together():
    got = resolve_all({"agency_id": "corniche", "advisor_id": "1"}, {"agency_id": AGENCY, "advisor_id": ADVISOR})
    assert got == {"agency_id": Resolution.STANDING, "advisor_id": Resolution.STANDING}


@pytest.mark.parametrize("incoming", [{"agency_id": "corniche", "advisor_id": "7"},
                                      {"agency_id": "nord", "advisor_id": "1"}])
def test_corrections__a_new_crm_agency_or_advisor_takes_the_crm_assignment_whole(incoming):
    got = resolve_all(incoming, {"agency_id": AGENCY, "advisor_id": ADVISOR})
    assert got == {"agency_id": Resolution.CRM_TAKEN, "advisor_id": Resolution.CRM_TAKEN}


def test_corrections__values_compare_as_canonical_text_whatever_the_driver_type():
    assert crm_text("turnover_eur", 250000.0) == crm_text("turnover_eur", Decimal("250000.00")) == "250000.00"
    assert crm_text("headcount", 3) == "3" and crm_text("advisor_id", 12) == "12"
    assert crm_text("phone", None) is None
    assert audit_value("turnover_eur", 1234.5) == "1234.50" and audit_value("advisor_id", 4) == 4


def test_corrections__crm_fields_are_what_the_import_writes_and_correctable_or_assigned():
    from states.corrections import OPTIONAL_CRM_FIELDS
    from store.csv_source import OPTIONAL_COLUMNS
    from store.importer import _CLIENT_COLUMNS, client_columns

    derived = {"id", "kind", "naf_nomenclature", "source_hash"}
    assert set(CRM_FIELDS) == set(_CLIENT_COLUMNS) - derived
    assert set(CRM_FIELDS) | set(OPTIONAL_CRM_FIELDS) == set(client_columns(OPTIONAL_COLUMNS)) - derived
    assert (set(CRM_FIELDS) | set(OPTIONAL_CRM_FIELDS)) - {"agency_id", "advisor_id"} <= set(CORRECTABLE)


def test_corrections__correct_client_records_the_crm_value_it_replaces(now):
    fx = decide(case(), CorrectClient({"phone": "06 99 88 77 66", "opposition_email": True}), now)
    assert fx.updates == [Update(Row.CORRECTION, "phone", {
        "crm_value_before": "+33612345678", "corrected_value": "+33699887766", "corrected_at": now})]


def test_corrections__unchanged_value_records_no_correction(now):
    assert correction_updates(PARTICULIER, {}, now) == []
    fx = decide(case(), CorrectClient({"city": "Marseille"}), now)
    assert fx.updates == []


def test_corrections__confirming_another_agency_moves_the_case_and_records_both_corrections(now):
    fx = decide(case(agency_id="corniche"), ConfirmAssignment("rouviere", 3), now)
    assert fx.client == {"agency_id": "rouviere", "advisor_id": 3}
    assert fx.case["agency_id"] == "rouviere" and fx.case["assigned_advisor_id"] == 3
    assert fx.changes["case.agency_id"] == ["corniche", "rouviere"]
    assert {u.key: u.values["crm_value_before"] for u in fx.updates} == {"agency_id": "corniche", "advisor_id": "1"}


def test_corrections__confirming_another_agency_needs_an_advisor_of_that_agency(now):
    with pytest.raises(InvalidChange) as refused:
        decide(case(agency_id="corniche"), ConfirmAssignment("rouviere", 1), now)
    assert "rouviere" in refused.value.errors["advisor_id"]


def test_corrections__confirming_the_same_agency_leaves_the_case_agency_alone(now):
    fx = decide(case(agency_id="corniche"), ConfirmAssignment("corniche", 1), now)
    assert "agency_id" not in fx.case and fx.updates == []


def test_corrections__import_changes_are_audited_with_the_kept_and_replaced_corrections(now):
    cmd = ImportClientChanges({"client.city": ("Marseille", "Aubagne")}, standing=("phone",), taken=("email",))
    fx = decide(case(agency_id="corniche"), cmd, now)
    assert fx.action == "import_crm" and fx.changes == {"client.city": ["Marseille", "Aubagne"]}
    assert fx.case == {} and fx.client == {}
    assert "correction maintenue" in fx.reason and "téléphone" in fx.reason and "email" in fx.reason


def test_corrections__import_moving_the_client_moves_the_case_to_the_chosen_advisor(now):
    snap = case(agency_id="corniche", assignment_confirmed=True)
    fx = decide(snap, ImportClientChanges({"client.agency_id": ("corniche", "rouviere")}, agency_id="rouviere",
                                          advisor_id=3), now)
    assert fx.case == {"agency_id": "rouviere", "assigned_advisor_id": 3, "assignment_confirmed": False}
    assert fx.changes["case.assigned_advisor_id"] == [1, 3]


def test_corrections__import_move_refuses_an_advisor_of_another_agency(now):
    with pytest.raises(InvalidChange):
        decide(case(agency_id="corniche"), ImportClientChanges({}, agency_id="rouviere", advisor_id=1), now)


def test_corrections__import_with_nothing_to_record_is_refused(now):
    with pytest.raises(InvalidChange):
        decide(case(agency_id="corniche"), ImportClientChanges({}), now)
