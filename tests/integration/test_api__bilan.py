"""The bilan through HTTP, on SQLite and PostgreSQL: suggestions with their reasons in the case,
accept (with the devis offered) and dismiss, the frozen record as JSON and PDF, its sending by
email with the PDF attached (a service message, even to a client opposed to email)."""
from __future__ import annotations

import email
import io
from datetime import date, timedelta
from email import policy

from pypdf import PdfReader
from sqlalchemy import select, update

from notifications.delivery import deliver_pending
from states.commands import ConfirmAssignment, FireEvent, SetRequirement
from states.records import ClientKind, ContractRecord, Family, RequirementStatus
from states.requirements import required_codes
from store.tables import Client, Notification
from store.write_path import execute
from tests import factories as f
from tests.integration.api_support import api, assert_problem  # noqa: F401  (fixture)

NOTIF = Notification.__table__


def _etag(resp) -> int:
    return int(resp.headers["ETag"].strip('W/"'))


def _at_bilan(engine, now) -> tuple[int, int, str, int]:
    """A particulier's case in contrats_finalises: (case id, its advisor, client id, version)."""
    with engine.begin() as conn:
        case_id, adv, client_id, k = f.ready_case(conn, marital_status="célibataire", children_at_home=1,
                                                  vehicles=1, housing_status="tenant")
    steps = [FireEvent("joindre"), ConfirmAssignment("corniche", adv), FireEvent("valider_fiche")]
    steps += [SetRequirement(k, code, RequirementStatus.VALIDATED) for code, _ in
              required_codes(ContractRecord(k, Family.IARD, "Auto", date(2026, 1, 15)), ClientKind.PARTICULIER)]
    steps.append(FireEvent("finaliser_contrats"))
    version = 1
    for cmd in steps:
        version = execute(engine, case_id, version, cmd, "user:advisor", now).version
    return case_id, adv, client_id, version


class _Sender:
    def __init__(self):
        self.sent = []

    def send(self, msg):
        self.sent.append(msg)

    def close(self):
        pass


def test_api__bilan_suggestions_accept_dismiss_pdf_and_send(api, now):  # noqa: F811
    case_id, adv, client_id, version = _at_bilan(api.engine, now)
    c, base = api.client, f"/api/cases/{case_id}"

    detail = c.get(base, headers=api.h("advisor")).json()
    bilan = detail["bilan"]
    suggestions = {s["code"]: s for s in bilan["suggestions"]}
    assert suggestions["habitation"]["status"] == "gap" and suggestions["habitation"]["decision"] is None
    assert "nulle part" in suggestions["habitation"]["reason"]
    assert suggestions["sante"]["status_label"] == "manque"
    fields = {x["field"]: x for x in bilan["situation"]["fields"]}
    assert fields["housing"]["value"] == "tenant" and fields["cadres"]["known"] is False
    assert [ln["contract_id"] for ln in detail["inventory"]] == [detail["contracts"][0]["id"]]

    # Accept: the need, and the devis offered (owner the case's advisor, due in 7 days).
    r = c.post(f"{base}/suggestions/habitation/accept", json={"client_decision": "accepted"},
               headers=api.h("advisor", version))
    assert r.status_code == 200, r.text
    out = r.json()
    version = _etag(r)
    due = (now.date() + timedelta(days=7)).isoformat()
    assert out["devis_proposal"] == {"kind": "devis", "owner_id": adv, "due_date": due,
                                     "label": "Devis Multirisque habitation", "outcome_id": out["outcome_id"]}
    edited = dict(out["devis_proposal"], due_date=(now.date() + timedelta(days=10)).isoformat())
    r = c.post(f"{base}/actions", json=edited, headers=api.h("advisor", version))
    assert r.status_code == 200, r.text
    version = _etag(r)
    action_id = r.json()["changes"]["action"][1]["id"]

    # Accept with the devis in the same change, then dismiss; a dismissal needs its reason.
    r = c.post(f"{base}/suggestions/prevoyance/accept", json={"client_decision": "to_think", "create_devis": {}},
               headers=api.h("advisor", version))
    assert r.status_code == 200 and r.json()["devis_proposal"] is None, r.text
    assert r.json()["changes"]["action"][1]["owner_id"] == adv and r.json()["changes"]["action"][1]["due_date"] == due
    version = _etag(r)
    assert_problem(c.post(f"{base}/suggestions/sante/dismiss", json={"reason": ""}, headers=api.h("advisor", version)),
                   422, "invalid_payload")
    r = c.post(f"{base}/suggestions/sante/dismiss", json={"reason": "mutuelle d'entreprise obligatoire"},
               headers=api.h("advisor", version))
    assert r.status_code == 200, r.text
    version = _etag(r)
    assert_problem(c.post(f"{base}/suggestions/yacht/accept", headers=api.h("advisor", version)),
                   422, "invalid_change")

    detail = c.get(base, headers=api.h("advisor")).json()
    decided = {s["code"]: s["decision"] for s in detail["bilan"]["suggestions"] if s["decision"]}
    assert decided["habitation"]["decision"] == "accepted" and decided["habitation"]["action_id"] == action_id
    assert decided["sante"] == {**decided["sante"], "decision": "dismissed",
                                "reason": "mutuelle d'entreprise obligatoire"}
    need = next(o for o in detail["outcomes"] if o["suggestion_code"] == "habitation")
    assert need["action_id"] == action_id and need["client_decision"] == "accepted"
    devis = next(a for a in detail["actions"] if a["id"] == action_id)
    assert devis["devis_status"] == "propose"

    r = c.put(f"{base}/nothing-elsewhere", json={"value": True}, headers=api.h("advisor", version))
    version = _etag(r)
    r = c.post(f"{base}/events/terminer_bilan", headers=api.h("advisor", version))
    assert r.status_code == 200 and r.json()["state"] == "bilan_fait", r.text
    version = _etag(r)

    [meta] = c.get(f"{base}/bilans", headers=api.h("advisor")).json()
    assert meta["seq"] == 1 and meta["pdf"] == f"{base}/bilans/1.pdf" and meta["sent_at"] is None
    record = c.get(f"{base}/bilans/1", headers=api.h("compliance")).json()
    assert record["content"]["client"]["display_name"] == "Marie Dupont"
    assert_problem(c.get(f"{base}/bilans/2", headers=api.h("advisor")), 404, "bilan_not_found")
    assert_problem(c.get(f"{base}/bilans/2.pdf", headers=api.h("advisor")), 404, "bilan_not_found")

    pdf = c.get(f"{base}/bilans/1.pdf", headers=api.h("advisor"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in ("Bilan global de vos assurances n° 1", "Marie Dupont", "Agence Corniche",
                     "Multirisque habitation", "mutuelle d'entreprise obligatoire", "locataire", "L521-4"):
        assert expected in text, expected
    assert c.get(f"{base}/bilans/1.pdf", headers=api.h("advisor")).content == pdf.content  # one record, one PDF

    # Emailed as a durable medium: queued with the PDF attached, even to a client opposed to email.
    with api.engine.begin() as conn:
        conn.execute(update(Client.__table__).where(Client.__table__.c.id == client_id).values(opposition_email=True))
    r = c.post(f"{base}/bilans/1/send", headers=api.h("advisor", version))
    assert r.status_code == 200, r.text
    assert r.json()["changes"]["bilan.1.sent"][1]["to"] == "marie.dupont@example.fr"
    assert c.get(f"{base}/bilans", headers=api.h("advisor")).json()[0]["sent_to"] == "marie.dupont@example.fr"
    trail = c.get(f"{base}/audit", headers=api.h("compliance")).json()["records"]
    assert trail[-1]["action"] == "send_bilan"
    with api.engine.connect() as conn:
        [note] = conn.execute(select(NOTIF).where(NOTIF.c.kind == "bilan_email")).all()
    assert note.recipient == "marie.dupont@example.fr" and note.payload["bilan_seq"] == 1

    sender = _Sender()
    summary = deliver_pending(api.engine, now, sender=sender)
    assert (summary.sent, summary.cancelled) == (1, 0)
    [msg] = sender.sent
    parsed = email.message_from_bytes(msg.data, policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed" and parsed["To"] == "marie.dupont@example.fr"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"bilan-{case_id}-1.pdf"
    assert attachment.get_content() == pdf.content
    body = parsed.get_body(("plain",)).get_content()
    assert "bilan de vos assurances" in body and "Message de service" in body
