"""The bilan through the one write path, on SQLite and PostgreSQL: the inventory pre-filled from
the client's contracts, suggestions accepted and dismissed, the frozen record (never updated
afterwards), devis status and the conversion figure, the bilan sent by email."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select, update

from api.queries.stats import StatsFilter, compute
from states.bilan import content_hash
from states.commands import (
    AcceptSuggestion, AddAction, AddInventoryLine, AddOutcome, ConfirmAssignment, CorrectClient, DevisRequest,
    DismissSuggestion, FireEvent, PrefillInventory, SendBilan, SetNothingElsewhere, SetRequirement, UpdateAction,
    UpdateOutcome,
)
from states.effects import Row, Update
from states.errors import GuardFailed, InvalidChange
from states.records import (
    ActionKind, ActionStatus, ClientDecision, ClientKind, ContractRecord, DevisStatus, Family, Held, OutcomeKind,
    RequirementStatus,
)
from states.requirements import required_codes
from store import audit
from store.errors import UnknownEffect
from store.snapshot import ACTION, BILAN_RECORD, DECISION, INVENTORY, OUTCOME
from store.tables import Notification
from store.write_path import _apply_update, execute
from tests import factories as f

NOTIF = Notification.__table__


class Walk:
    def __init__(self, engine, now):
        self.engine, self.now = engine, now
        with engine.begin() as conn:
            self.case_id, self.adv, self.client, self.k = f.ready_case(conn)
            self.k_sante = f.contract(conn, self.client, family="Santé", product="Santé individuelle",
                                      effective=date(2025, 3, 1))
            f.contract(conn, self.client, family="IARD", product="Habitation", status="cancelled")
        self.version = 1

    def run(self, cmd, at=None):
        result = execute(self.engine, self.case_id, self.version, cmd, f"user:adv{self.adv}", at or self.now)
        self.version = result.version
        return result

    def rows(self, table, *order):
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(table).where(table.c.case_id == self.case_id).order_by(*(order or (table.c.id,))))]

    def to_bilan(self):
        self.run(FireEvent("joindre"))
        self.run(ConfirmAssignment("corniche", self.adv))
        self.run(FireEvent("valider_fiche"))
        for code, _ in required_codes(ContractRecord(self.k, Family.IARD, "Auto", date(2026, 1, 15)),
                                      ClientKind.PARTICULIER):
            self.run(SetRequirement(self.k, code, RequirementStatus.RECEIVED))
        return self.run(FireEvent("finaliser_contrats"))


def test_bilan__opens_with_every_active_contract_of_the_client_once(engine, now):
    w = Walk(engine, now)
    result = w.to_bilan()
    lines = w.rows(INVENTORY)
    assert [(ln["contract_id"], ln["held"], ln["product"]) for ln in lines] == [  # oldest first, not the cancelled
        (w.k_sante, "chez_nous", "Santé individuelle"), (w.k, "chez_nous", "Auto")]
    assert result.changes["inventory_prefill"][1] == [
        {"contract_id": w.k_sante, "family": "Santé", "product": "Santé individuelle"},
        {"contract_id": w.k, "family": "IARD", "product": "Auto"}]
    with pytest.raises(InvalidChange, match="déjà à jour"):
        w.run(PrefillInventory())
    with engine.begin() as conn:  # a new contract of the client arrives
        k_new = f.contract(conn, w.client, family="Épargne", product="Assurance vie")
    w.run(PrefillInventory())
    assert [ln["contract_id"] for ln in w.rows(INVENTORY)] == [w.k_sante, w.k, k_new]
    with engine.begin() as conn, pytest.raises(Exception):  # the database refuses a second line too
        with conn.begin_nested():
            conn.execute(insert(INVENTORY).values(case_id=w.case_id, family="IARD", product="Auto",
                                                  held="chez_nous", contract_id=w.k))


def test_bilan__accept_dismiss_freeze_and_never_overwrite(engine, now):
    w = Walk(engine, now)
    w.to_bilan()
    w.run(CorrectClient({"children_at_home": 2, "housing_status": "locataire", "vehicles": 1}))
    due = now.date() + timedelta(days=7)

    accepted = w.run(AcceptSuggestion("habitation", create_devis=DevisRequest(w.adv, due)))
    [action] = w.rows(ACTION)
    [need] = w.rows(OUTCOME)
    assert (action["kind"], action["devis_status"], action["owner_id"], action["due_date"]) == \
        ("devis", "propose", w.adv, due)
    assert (need["kind"], need["suggestion_code"], need["action_id"]) == ("complementary_need", "habitation",
                                                                          action["id"])
    assert accepted.changes["outcome"][1]["id"] == need["id"] and accepted.changes["action"][1]["id"] == action["id"]
    w.run(DismissSuggestion("prevoyance", "prévoyance décès souscrite par l'employeur"))
    w.run(AcceptSuggestion("epargne", detail="Épargne pour les études des enfants"))
    decisions = {d["code"]: d for d in w.rows(DECISION)}
    assert decisions["habitation"]["decision"] == "accepted" and decisions["habitation"]["outcome_id"] == need["id"]
    assert decisions["habitation"]["action_id"] == action["id"]
    assert decisions["prevoyance"]["reason"] == "prévoyance décès souscrite par l'employeur"
    with pytest.raises(InvalidChange, match="déjà retenue"):
        w.run(AcceptSuggestion("habitation"))

    w.run(SetNothingElsewhere(True))
    with pytest.raises(GuardFailed) as refused:
        w.run(FireEvent("terminer_bilan"))
    assert {u.code for u in refused.value.unmet} == {f"outcome.{o['id']}.client_decision" for o in w.rows(OUTCOME)}
    needs = w.rows(OUTCOME)
    w.run(UpdateOutcome(needs[0]["id"], ClientDecision.ACCEPTED))
    w.run(UpdateOutcome(needs[1]["id"], ClientDecision.TO_THINK))
    done = w.run(FireEvent("terminer_bilan"))

    [record] = w.rows(BILAN_RECORD)
    assert (record["seq"], record["actor"], record["audit_seq"]) == (1, f"user:adv{w.adv}", done.audit_seq)
    assert record["made_at"] == now and record["content_sha256"] == content_hash(record["content"])
    assert done.changes["bilan_record"][1] == {"seq": 1, "sha256": record["content_sha256"]}
    assert done.changes["bilan"][1] == record["content"]
    content = record["content"]
    assert [n["client_decision"] for n in content["needs"]] == ["accepted", "to_think"]
    assert content["needs"][0]["action"]["id"] == action["id"]
    advice = {a["code"]: a for a in content["advice"]}
    assert advice["prevoyance"]["decision"]["reason"] == "prévoyance décès souscrite par l'employeur"
    assert advice["habitation"]["client_decision"] == "accepted"
    assert content["situation"]["children_at_home"] == 2 and content["situation"]["housing"] == "tenant"
    assert len(content["inventory"]["chez_nous"]) == 2 and content["nothing_elsewhere"] is True

    # After the bilan: audited as such, and the frozen record is never touched.
    later = [w.run(AddInventoryLine(Family.SANTE, "Mutuelle", Held.AILLEURS, "MGEN")),
             w.run(AddOutcome(OutcomeKind.TECHNICAL_QUESTION, "franchise ?", answer="150 €")),
             w.run(UpdateOutcome(needs[1]["id"], ClientDecision.REFUSED)),
             w.run(CorrectClient({"children_at_home": 3}))]
    assert all(r.changes["after_bilan"] == [None, True] for r in later)
    w.run(AddAction(ActionKind.RDV, w.adv, due, "Point épargne", outcome_id=needs[1]["id"]))
    w.run(UpdateAction(action["id"], devis_status=DevisStatus.ENVOYE))
    w.run(UpdateAction(action["id"], devis_status=DevisStatus.SIGNE))
    assert w.rows(BILAN_RECORD) == [record]
    with pytest.raises(InvalidChange, match="introuvable"):
        w.run(SendBilan(2))
    with engine.begin() as conn, pytest.raises(UnknownEffect):  # the store refuses to edit the content
        _apply_update(conn, w.case_id, Update(Row.BILAN_RECORD, 1, {"content": {}}))

    sent = w.run(SendBilan(1))
    with engine.connect() as conn:
        [note] = [dict(r._mapping) for r in conn.execute(select(NOTIF).where(NOTIF.c.kind == "bilan_email"))]
    assert note["recipient"] == "marie.dupont@example.fr" and note["payload"]["bilan_seq"] == 1
    assert note["dedupe_key"] == f"case:{w.case_id}:{sent.audit_seq}:bilan_email"
    [marked] = w.rows(BILAN_RECORD)
    assert (marked["sent_at"], marked["sent_to"]) == (now, "marie.dupont@example.fr")
    assert {k: v for k, v in marked.items() if k not in ("sent_at", "sent_to")} == \
        {k: v for k, v in record.items() if k not in ("sent_at", "sent_to")}

    [devis] = [a for a in w.rows(ACTION) if a["kind"] == "devis"]
    assert (devis["devis_status"], devis["status"]) == ("signe", "done")  # signed finishes the devis
    with engine.connect() as conn:
        figures = compute(conn, StatsFilter())["totals"]
        _, _, breaches, _ = audit.verify_all(conn)
    assert figures["conversion"] == {"needs": 2, "proposed": 1, "sent": 1, "signed": 1, "refused": 0,
                                     "sent_rate": 1.0, "signed_rate": 1.0, "conversion_rate": 1.0}
    assert breaches == []


def test_bilan__an_action_needs_an_owner_of_the_cases_agency_and_a_due_date(engine, now):
    with engine.begin() as conn:
        case_id, adv, *_ = f.ready_case(conn)
        other = f.advisor(conn, agency_id="rouviere")
        gone = f.advisor(conn, active=False)
    due = date(2026, 5, 4)
    for owner, message in ((other, "rouviere"), (gone, "plus actif"), (None, "obligatoire")):
        with pytest.raises(InvalidChange, match=message):
            execute(engine, case_id, 1, AddAction(ActionKind.RDV, owner, due), "user:a", now)
    with pytest.raises(InvalidChange, match="échéance"):
        execute(engine, case_id, 1, AddAction(ActionKind.RDV, adv, None), "user:a", now)
    result = execute(engine, case_id, 1, AddAction(ActionKind.DEVIS, adv, due, "Devis MRH"), "user:a", now)
    with engine.connect() as conn:
        row = conn.execute(select(ACTION).where(ACTION.c.case_id == case_id)).one()
    assert result.changes["action"][1]["id"] == row.id and row.devis_status == "propose"
    with pytest.raises(InvalidChange, match="rouviere"):
        execute(engine, case_id, 2, UpdateAction(row.id, owner_id=other), "user:a", now)
    execute(engine, case_id, 2, UpdateAction(row.id, devis_status=DevisStatus.REFUSE, status=ActionStatus.OPEN),
            "user:a", now)
    with engine.connect() as conn:
        assert conn.execute(select(ACTION.c.devis_status, ACTION.c.status)).one() == ("refuse", "open")
        conv = compute(conn, StatsFilter())["totals"]["conversion"]
    assert (conv["proposed"], conv["sent"], conv["signed"], conv["refused"], conv["signed_rate"]) == (1, 1, 0, 1, 0.0)
    with engine.begin() as conn:  # a devis proposed then abandoned is no proposal
        conn.execute(update(ACTION).values(status="cancelled", devis_status="propose"))
        assert compute(conn, StatsFilter())["totals"]["conversion"]["proposed"] == 0
