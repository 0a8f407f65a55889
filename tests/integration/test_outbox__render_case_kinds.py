"""Case-based notifications rendered from the database (SQLite and PostgreSQL), in French."""
from __future__ import annotations

import re

from sqlalchemy import select

from notifications.outbox import enqueue
from notifications.render import RenderedEmail, RenderedLetter, render
from store.tables import Notification
from tests import factories as f

LEFTOVERS = re.compile(r"\{\{|\}\}|\{%|%\}")


def _row(engine, key):
    with engine.connect() as conn:
        return conn.execute(select(Notification.__table__).where(Notification.dedupe_key == key)).one()


def test_render__client_email_and_documents_request_from_the_case(engine, now):
    with engine.begin() as conn:
        adv = f.advisor(conn, name="Julie Martin", agency_id="rouviere", email="julie.martin@agence.example",
                        first_name="Julie", last_name="Martin", title="Chargée de clientèle")
        cl = f.client(conn, "entreprise", advisor_id=adv, agency_id="rouviere")
        k1 = f.contract(conn, cl, product="Multirisque professionnelle")
        k2 = f.contract(conn, cl, family="Santé", product="Santé collective")
        case_id = f.case(conn, cl, [k1, k2], adv, agency_id="rouviere")
        enqueue(conn, kind="client_email", channel="email", dedupe_key="e", now=now, case_id=case_id)
        enqueue(conn, kind="documents_request", channel="email", dedupe_key="d", now=now, case_id=case_id,
                payload={"missing": [{"contract_id": k1, "product": "Multirisque professionnelle", "label": "Extrait Kbis"},
                                     {"contract_id": k2, "product": "Santé collective", "label": "DP signées"}]})
        enqueue(conn, kind="client_letter", channel="letter", dedupe_key="l", now=now, case_id=case_id)
    rows = {key: _row(engine, key) for key in "edl"}
    with engine.connect() as conn:
        mail, docs, letter = (render(conn, rows[key], now) for key in "edl")
    assert isinstance(mail, RenderedEmail) and isinstance(docs, RenderedEmail) and isinstance(letter, RenderedLetter)
    assert mail.subject == "Votre dossier à l'Agence Rouvière : mise à jour et bilan de vos assurances"
    assert "vos contrats Multirisque professionnelle et Santé collective" in mail.text
    assert "Julie Martin\nChargée de clientèle — Agence Rouvière" in mail.text  # her own title (issue 7)
    assert mail.mail_from == "Julie Martin – Allianz Rouvière <rouviere@agence.example>"
    assert mail.reply_to == "julie.martin@agence.example"
    # A marketing email: the signed opt-out link first, the agency's address second; one-click (RFC 8058).
    assert mail.list_unsubscribe.startswith("http://127.0.0.1:8000/desinscription/") and mail.one_click
    assert mail.list_unsubscribe_mailto == "mailto:rouviere@agence.example?subject=STOP"
    assert mail.list_unsubscribe in mail.text and mail.list_unsubscribe in mail.html
    assert docs.subject == "Votre dossier à l'Agence Rouvière : 2 pièces à nous transmettre"
    assert "Contrat Multirisque professionnelle (effet au 15 janvier 2026) :\n  - Extrait Kbis" in docs.text
    assert docs.list_unsubscribe is None and not docs.one_click and "Message de service" in docs.text
    for part in (mail.text, mail.html, docs.text, docs.html):
        assert not LEFTOVERS.search(part)
    assert "<li>Extrait Kbis</li>" in docs.html
    assert letter.pdf.startswith(b"%PDF-") and letter.filename.endswith(f"-case-{case_id}.pdf")
