"""The CRM import against corrections made through the write path, on both databases.

The rule (issue 7, §6): a corrected field stands while the CRM still sends the value it had
before the correction; when the CRM sends a new value, that value is taken. Every change the
import makes to a client with an open case is audited on that case (actor system:import),
through the write path, so the case's version (its ETag) advances.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from states.commands import ConfirmAssignment, CorrectClient, FireEvent
from store import audit
from store.importer import import_file
from store.tables import Advisor, AuditRecord, Client, ClientCorrection
from store.write_path import execute
from tests import factories as f
from tests.import_csv import row, write_csv
from tests.integration.db_helpers import case_dict

AUDIT = AuditRecord.__table__
CORRECTION = ClientCorrection.__table__
IMPORTED_AT = datetime(2026, 4, 20, 6, 0, tzinfo=timezone.utc)


def _client(engine, cid="C1"):
    with engine.connect() as conn:
        return conn.execute(select(Client.__table__).where(Client.id == cid)).one()


def _last_audit(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(AUDIT).where(AUDIT.c.case_id == case_id).order_by(AUDIT.c.seq.desc())).first()


def _imported_case(engine, tmp_path, now, **columns):
    """C1 imported from the CRM, with an open case on its contract K1; returns the case id."""
    import_file(engine, write_csv(tmp_path / "first.csv", [row(**columns)]), now=now - timedelta(days=5))
    advisor_id = _client(engine).advisor_id
    with engine.begin() as conn:
        return f.case(conn, "C1", ["K1"], advisor_id)


def test_importer__city_change_keeps_a_corrected_phone_and_audits_the_city_on_the_case(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    assert _client(engine).phone == "+33612345678"  # what the CRM sent
    corrected = execute(engine, case_id, 1, CorrectClient({"phone": "06 99 88 77 66"}), "user:marie", now)
    assert corrected.version == 2

    summary = import_file(engine, write_csv(tmp_path / "second.csv", [row(city="Aubagne")]), now=IMPORTED_AT)

    client = _client(engine)
    assert (client.phone, client.city) == ("+33699887766", "Aubagne")  # the correction stands
    case = case_dict(engine, case_id)
    assert (case["version"], case["audit_seq"]) == (3, 3)  # the ETag is no longer "2"
    record = _last_audit(engine, case_id)
    assert (record.actor, record.action, record.seq) == ("system:import", "import_crm", 3)
    assert record.changes == {"client.city": ["Marseille", "Aubagne"]}
    assert case["audit_head"] == record.hash
    assert [(c.client_id, c.field, c.kind) for c in summary.conflicts] == [("C1", "phone", "standing")]


def _corrections(engine):
    with engine.connect() as conn:
        return {(r.client_id, r.field): r for r in conn.execute(select(CORRECTION)).all()}


def _verify(engine):
    with engine.connect() as conn:
        return audit.verify_all(conn)[2]


def test_importer__new_crm_value_replaces_the_correction_and_is_listed(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    execute(engine, case_id, 1, CorrectClient({"phone": "06 99 88 77 66"}), "user:marie", now)

    summary = import_file(engine, write_csv(tmp_path / "second.csv", [row(phone="06 55 12 34 56")]), now=IMPORTED_AT)

    assert _client(engine).phone == "+33655123456"
    assert [(c.field, c.kind, c.crm_value, c.corrected_value, c.case_id) for c in summary.conflicts] == [
        ("phone", "crm_taken", "+33655123456", "+33699887766", case_id)]
    assert _corrections(engine) == {}  # the CRM has the newer value: nothing left to protect
    record = _last_audit(engine, case_id)
    assert record.actor == "system:import" and record.changes == {"client.phone": ["+33699887766", "+33655123456"]}
    assert "nouvelle valeur du CRM retenue" in record.reason
    assert case_dict(engine, case_id)["version"] == 3 and _verify(engine) == []


def test_importer__crm_catching_up_with_the_correction_drops_it_quietly(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    execute(engine, case_id, 1, CorrectClient({"phone": "06 99 88 77 66"}), "user:marie", now)

    summary = import_file(engine, write_csv(tmp_path / "second.csv", [row(phone="06 99 88 77 66")]), now=IMPORTED_AT)

    assert summary.conflicts == [] and summary.cases_audited == 0
    assert _client(engine).phone == "+33699887766" and _corrections(engine) == {}
    assert case_dict(engine, case_id)["version"] == 2  # nothing changed on the client: no record, same ETag


def test_importer__standing_correction_survives_later_changes_of_other_columns(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    execute(engine, case_id, 1, CorrectClient({"phone": "06 99 88 77 66", "email": "m.dupont@example.fr"}),
            "user:marie", now)
    import_file(engine, write_csv(tmp_path / "b.csv", [row(city="Aubagne")]), now=IMPORTED_AT)
    again = import_file(engine, write_csv(tmp_path / "b.csv", [row(city="Aubagne")]), now=IMPORTED_AT)
    assert (again.updated, again.conflicts, again.cases_audited) == (0, [], 0)  # unchanged row: not even read
    third = import_file(engine, write_csv(tmp_path / "c.csv", [row(city="Cassis")]),
                        now=IMPORTED_AT + timedelta(days=1))

    client = _client(engine)
    assert (client.phone, client.email, client.city) == ("+33699887766", "m.dupont@example.fr", "Cassis")
    assert sorted((c.field, c.kind) for c in third.conflicts) == [("email", "standing"), ("phone", "standing")]
    assert set(_corrections(engine)) == {("C1", "phone"), ("C1", "email")}
    assert case_dict(engine, case_id)["version"] == 4 and _verify(engine) == []


def test_importer__correction_of_a_client_whose_case_is_closed_still_stands(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    execute(engine, case_id, 1, CorrectClient({"city": "Cassis"}), "user:marie", now)
    execute(engine, case_id, 2, FireEvent("declarer_injoignable"), "system:escalation", now)

    summary = import_file(engine, write_csv(tmp_path / "b.csv", [row(email="marie@example.org")]), now=IMPORTED_AT)

    assert (_client(engine).city, _client(engine).email) == ("Cassis", "marie@example.org")
    assert [(c.field, c.kind) for c in summary.conflicts] == [("city", "standing")]
    assert summary.cases_audited == 0 and case_dict(engine, case_id)["version"] == 3  # a closed case is frozen


def test_importer__corrected_turnover_and_naf_stand_with_their_nomenclature(engine, tmp_path, now):
    pro = dict(client_kind="professionnel", siret="73282932000074", naf_code="62-01", activity="Logiciel",
               turnover_eur="250 000", headcount="3")
    case_id = _imported_case(engine, tmp_path, now, **pro)
    assert _client(engine).naf_nomenclature is None  # "62-01" is not a valid code: stored as given
    execute(engine, case_id, 1, CorrectClient({"naf_code": "6201z", "turnover_eur": "260000"}), "user:marie", now)

    summary = import_file(engine, write_csv(tmp_path / "b.csv", [row(**dict(pro, headcount="4"))]), now=IMPORTED_AT)

    client = _client(engine)
    assert (client.naf_code, client.headcount) == ("62.01Z", 4)
    assert Decimal(str(client.turnover_eur)) == Decimal("260000")
    assert sorted((c.field, c.kind) for c in summary.conflicts) == [("naf_code", "standing"),
                                                                    ("turnover_eur", "standing")]
    assert _last_audit(engine, case_id).changes == {"client.headcount": [3, 4]}


def test_importer__confirmed_agency_and_advisor_stand_while_the_crm_sends_the_old_ones(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    with engine.begin() as conn:
        luc = f.advisor(conn, name="Luc Rouvière", agency_id="rouviere")
    execute(engine, case_id, 1, ConfirmAssignment("rouviere", luc), "user:marie", now)

    summary = import_file(engine, write_csv(tmp_path / "b.csv", [row(city="Aubagne")]), now=IMPORTED_AT)

    client, case = _client(engine), case_dict(engine, case_id)
    assert (client.agency_id, client.advisor_id) == ("rouviere", luc)
    assert (case["agency_id"], case["assigned_advisor_id"], case["assignment_confirmed"]) == ("rouviere", luc, True)
    assert sorted((c.field, c.kind) for c in summary.conflicts) == [("advisor_id", "standing"),
                                                                    ("agency_id", "standing")]
    assert summary.cases_moved == []


def test_importer__crm_moving_the_client_moves_its_case_to_its_new_advisor(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    paul = _client(engine).advisor_id

    summary = import_file(engine, write_csv(tmp_path / "b.csv", [row(agency="Rouvière", advisor="Léa Garcia")]),
                          now=IMPORTED_AT)

    with engine.connect() as conn:
        lea = conn.execute(select(Advisor.id).where(Advisor.name == "Léa Garcia")).scalar_one()
    case = case_dict(engine, case_id)
    assert (case["agency_id"], case["assigned_advisor_id"], case["version"]) == ("rouviere", lea, 2)
    record = _last_audit(engine, case_id)
    assert record.actor == "system:import"
    assert record.changes == {"client.agency_id": ["corniche", "rouviere"], "client.advisor_id": [paul, lea],
                              "case.agency_id": ["corniche", "rouviere"], "case.assigned_advisor_id": [paul, lea]}
    assert [(m.case_id, m.from_agency, m.to_agency, m.advisor_id) for m in summary.cases_moved] == [
        (case_id, "corniche", "rouviere", lea)]


def test_importer__moved_client_whose_advisor_stays_behind_goes_to_the_least_loaded(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    with engine.begin() as conn:
        busy = f.advisor(conn, agency_id="rouviere")
        free = f.advisor(conn, agency_id="rouviere")
        f.advisor(conn, agency_id="rouviere", active=False)
        other = f.client(conn, agency_id="rouviere")
        f.case(conn, other, [f.contract(conn, other)], busy, agency_id="rouviere")

    # The CRM moves the client but still names its Corniche advisor: the case needs a Rouvière one.
    import_file(engine, write_csv(tmp_path / "b.csv", [row(agency="Rouvière")]), now=IMPORTED_AT)

    case = case_dict(engine, case_id)
    assert (case["agency_id"], case["assigned_advisor_id"]) == ("rouviere", free)


def test_importer__client_without_open_case_moves_without_audit(engine, tmp_path, now):
    import_file(engine, write_csv(tmp_path / "a.csv", [row()]), now=now)
    summary = import_file(engine, write_csv(tmp_path / "b.csv", [row(agency="Rouvière", city="Aubagne")]),
                          now=IMPORTED_AT)
    assert (summary.cases_audited, summary.cases_moved, summary.conflicts) == (0, [], [])
    assert _client(engine).agency_id == "rouviere"


def test_importer__cli_lists_conflicts_and_audited_cases(m3, cli_db, tmp_path, now):
    case_id = _imported_case(cli_db, tmp_path, now)
    execute(cli_db, case_id, 1, CorrectClient({"phone": "06 99 88 77 66"}), "user:marie", now)
    result = m3("import", write_csv(tmp_path / "b.csv", [row(city="Aubagne")]), "--today", "2026-04-20")
    assert result.exit_code == 0, result.output
    assert _last_audit(cli_db, case_id).at == datetime(2026, 4, 20, 5, 0, tzinfo=timezone.utc)  # 07:00 in Paris
    assert "conflits avec des corrections : 1" in result.output
    assert (f"client C1, téléphone : correction maintenue (dossier {case_id}), le CRM envoie toujours "
            "l'ancienne valeur (+33612345678)") in result.output
    assert "dossiers en cours dont le client a changé : 1" in result.output


def test_importer__correcting_twice_keeps_the_first_crm_value_and_resets_the_export(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    execute(engine, case_id, 1, CorrectClient({"phone": "06 99 88 77 66"}), "user:marie", now)
    with engine.begin() as conn:
        conn.execute(CORRECTION.update().values(exported_at=now))
    execute(engine, case_id, 2, CorrectClient({"phone": "06 55 44 33 22"}), "user:marie", now + timedelta(hours=1))

    correction = _corrections(engine)[("C1", "phone")]
    assert (correction.crm_value_before, correction.corrected_value) == ("+33612345678", "+33655443322")
    assert (correction.case_id, correction.audit_seq, correction.exported_at) == (case_id, 3, None)
    summary = import_file(engine, write_csv(tmp_path / "b.csv", [row(city="Aubagne")]), now=IMPORTED_AT)
    assert _client(engine).phone == "+33655443322" and [c.kind for c in summary.conflicts] == ["standing"]


def test_importer__new_crm_advisor_takes_back_the_confirmed_assignment_whole(engine, tmp_path, now):
    case_id = _imported_case(engine, tmp_path, now)
    with engine.begin() as conn:
        luc = f.advisor(conn, name="Luc Rouvière", agency_id="rouviere")
    execute(engine, case_id, 1, ConfirmAssignment("rouviere", luc), "user:marie", now)

    # The CRM still says Corniche, but names a new advisor there: its assignment is the newer one.
    summary = import_file(engine, write_csv(tmp_path / "b.csv", [row(advisor="Zoé Roux")]), now=IMPORTED_AT)

    with engine.connect() as conn:
        zoe = conn.execute(select(Advisor.id).where(Advisor.name == "Zoé Roux")).scalar_one()
    client, case = _client(engine), case_dict(engine, case_id)
    assert (client.agency_id, client.advisor_id) == ("corniche", zoe)
    assert (case["agency_id"], case["assigned_advisor_id"], case["assignment_confirmed"]) == ("corniche", zoe, False)
    assert sorted((c.field, c.kind) for c in summary.conflicts) == [("advisor_id", "crm_taken"),
                                                                    ("agency_id", "crm_taken")]
    assert _corrections(engine) == {} and _verify(engine) == []
