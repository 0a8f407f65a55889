"""The one write path, the same tests on SQLite and PostgreSQL (the `engine` fixture)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from states.commands import (
    AddAction, AddInventoryLine, AddOutcome, ConfirmAssignment, FireEvent, SetRequirement, UpdateAction,
)
from states.errors import GuardFailed
from states.records import (
    ActionKind, ActionStatus, ClientKind, ContractRecord, Family, Held, OutcomeKind, RequirementStatus,
)
from states.records import ClientDecision
from states.requirements import required_codes
from store import audit
from store.errors import CaseNotFound, VersionConflict
from store.tables import ContractRequirement, Notification, PlannedAction
from store.write_path import execute
from tests import factories as f
from tests.integration.db_helpers import audit_count, case_dict, world

REQ = ContractRequirement.__table__
NOTIF = Notification.__table__
ACTION = PlannedAction.__table__


def test_write_path__case_walks_from_a_contacter_to_cloture(engine, now):
    with engine.begin() as conn:
        case_id, adv, _, k = f.ready_case(conn)
    version = 1

    def run(cmd, at=now):
        nonlocal version
        result = execute(engine, case_id, version, cmd, f"advisor:{adv}", at)
        assert result.version == version + 1
        version = result.version
        return result

    assert run(FireEvent("joindre")).state == "joint_rdv"
    run(ConfirmAssignment("corniche", adv))
    assert run(FireEvent("valider_fiche")).state == "fiche_validee"
    codes = [c for c, _ in required_codes(ContractRecord(k, Family.IARD, "Auto", date(2026, 1, 15)),
                                          ClientKind.PARTICULIER)]
    for code in codes:
        run(SetRequirement(k, code, RequirementStatus.RECEIVED))
    assert run(FireEvent("finaliser_contrats")).state == "contrats_finalises"
    run(AddInventoryLine(Family.IARD, "Multirisque habitation", Held.AILLEURS, "MAAF"))
    run(AddOutcome(OutcomeKind.COMPLEMENTARY_NEED, "devis habitation", ClientDecision.ACCEPTED))
    assert run(FireEvent("terminer_bilan")).state == "bilan_fait"
    run(AddAction(ActionKind.DEVIS, adv, now.date() + timedelta(days=7), "devis MRH"))
    assert run(FireEvent("planifier_actions")).state == "actions_planifiees"
    with engine.connect() as conn:
        action_id = conn.execute(select(ACTION.c.id).where(ACTION.c.case_id == case_id)).scalar_one()
    run(UpdateAction(action_id, status=ActionStatus.DONE))
    result = run(FireEvent("cloturer"), at=now + timedelta(days=3))

    assert result.state == "cloture"
    row = case_dict(engine, case_id)
    assert (row["state"], row["closing_reason"], row["closed_at"]) == ("cloture", "complet", now + timedelta(days=3))
    assert row["reached_at"] == now and row["bilan_at"] == now and row["assignment_confirmed"]
    assert row["version"] == version and row["audit_seq"] == version == audit_count(engine, case_id)
    with engine.connect() as conn:
        trail = audit.trail(conn, case_id)
        n_cases, n_records, breaches, _ = audit.verify_all(conn)
    assert [r["action"] for r in trail][:2] == ["ouverture", "joindre"] and trail[-1]["action"] == "cloturer"
    assert (n_cases, n_records, breaches) == (1, version, [])


def test_write_path__stale_version_is_refused_with_the_current_one_and_overwrites_nothing(engine, now):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    execute(engine, case_id, 1, FireEvent("joindre"), "advisor:a", now)
    before = world(engine, case_id)
    with pytest.raises(VersionConflict) as conflict:
        execute(engine, case_id, 1, FireEvent("enregistrer_refus"), "advisor:b", now)
    assert (conflict.value.expected, conflict.value.current) == (1, 2)
    assert world(engine, case_id) == before
    assert before["case"]["state"] == "joint_rdv"


def test_write_path__unknown_case_is_refused(engine, now):
    with pytest.raises(CaseNotFound):
        execute(engine, 424242, 1, FireEvent("joindre"), "advisor:a", now)


def test_write_path__guard_refusal_changes_nothing_and_writes_no_audit(engine, now):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn, email="pas-un-email", marital_status=None)
    execute(engine, case_id, 1, FireEvent("joindre"), "advisor:a", now)
    before = world(engine, case_id)
    with pytest.raises(GuardFailed) as refused:
        execute(engine, case_id, 2, FireEvent("valider_fiche"), "advisor:a", now)
    assert [u.code for u in refused.value.unmet] == ["email", "marital_status", "assignment"]
    assert world(engine, case_id) == before
    assert audit_count(engine, case_id) == 2


def test_write_path__contract_requirement_is_upserted(engine, now):
    with engine.begin() as conn:
        case_id, _, _, k = f.ready_case(conn)
    execute(engine, case_id, 1, SetRequirement(k, "carte_grise", RequirementStatus.RECEIVED), "advisor:a", now)
    execute(engine, case_id, 2, SetRequirement(k, "carte_grise", RequirementStatus.VALIDATED), "advisor:a",
            now + timedelta(hours=1))
    execute(engine, case_id, 3, SetRequirement(k, "permis", RequirementStatus.WAIVED, "permis étranger, en cours"),
            "advisor:a", now)
    with engine.connect() as conn:
        rows = conn.execute(select(REQ.c.code, REQ.c.status, REQ.c.waiver_reason, REQ.c.updated_at)
                            .where(REQ.c.contract_id == k).order_by(REQ.c.code)).all()
        trail = audit.trail(conn, case_id)
    assert [tuple(r) for r in rows] == [("carte_grise", "validated", None, now + timedelta(hours=1)),
                                        ("permis", "waived", "permis étranger, en cours", now)]
    assert trail[2]["changes"] == {f"contract.{k}.carte_grise": ["received", "validated"]}
    assert trail[3]["reason"] == "permis étranger, en cours"


def test_write_path__upsert_of_a_preexisting_requirement_keeps_one_row(engine, now):
    with engine.begin() as conn:
        case_id, _, _, k = f.ready_case(conn)
        f.requirement(conn, k, "dp", "received")
    execute(engine, case_id, 1, SetRequirement(k, "dp", RequirementStatus.VALIDATED), "advisor:a", now)
    with engine.connect() as conn:
        rows = conn.execute(select(REQ.c.status).where(REQ.c.contract_id == k, REQ.c.code == "dp")).all()
        trail = audit.trail(conn, case_id)
    assert [r.status for r in rows] == ["validated"]
    assert trail[-1]["changes"] == {f"contract.{k}.dp": ["received", "validated"]}


def test_write_path__envoyer_email_enqueues_a_notification_in_the_same_change(engine, now):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    result = execute(engine, case_id, 1, FireEvent("envoyer_email"), "flow:escalation", now)
    with engine.connect() as conn:
        rows = conn.execute(select(NOTIF).where(NOTIF.c.case_id == case_id)).all()
    assert len(rows) == 1
    n = rows[0]
    assert (n.kind, n.channel, n.recipient, n.status, n.attempts) == (
        "client_email", "email", "marie.dupont@example.fr", "pending", 0)
    assert n.dedupe_key == f"case:{case_id}:{result.audit_seq}:client_email"
    assert n.payload == {"audit_seq": result.audit_seq} and n.next_attempt_at == now
    assert case_dict(engine, case_id)["escalation_step"] == 1


def test_write_path__envoyer_courrier_enqueues_a_letter_without_email_recipient(engine, now):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    execute(engine, case_id, 1, FireEvent("envoyer_email"), "flow:escalation", now)
    execute(engine, case_id, 2, FireEvent("envoyer_courrier"), "flow:escalation", now + timedelta(days=9))
    with engine.connect() as conn:
        rows = conn.execute(select(NOTIF.c.kind, NOTIF.c.channel, NOTIF.c.recipient)
                            .where(NOTIF.c.case_id == case_id).order_by(NOTIF.c.id)).all()
    assert [tuple(r) for r in rows] == [("client_email", "email", "marie.dupont@example.fr"),
                                        ("client_letter", "letter", None)]


def test_write_path__refused_email_enqueues_nothing(engine, now):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn, opposition_email=True)
    before = world(engine, case_id)
    with pytest.raises(GuardFailed):
        execute(engine, case_id, 1, FireEvent("envoyer_email"), "flow:escalation", now)
    assert world(engine, case_id) == before and before["notifications"] == []
