"""What clients receive, addressed like a person: the letter's salutation by civility, the email's
greeting and sender (the agency, with the advisor's name), the advisor's own title, the ORIAS
number where ORIAS is mentioned."""
from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, timezone
from types import SimpleNamespace as Row

import pytest

from notifications import letter_pdf
from notifications.context import _case_context, agency_info, sender
from notifications.render import _render, render_email, render_letter
from notifications.smtp_sender import build_message

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
CASE = Row(id=42, due_date=date(2026, 11, 15), window_end=date(2026, 11, 22), state="courrier_envoye",
           agency_id="corniche")
MARGARET = Row(id=7, name="Margaret Hebert", email="margaret.hebert@agence.example", first_name="Margaret",
               last_name="Hebert", title="Chargée de clientèle")
CONTRACTS = [Row(id="K1", product="Auto", family="IARD", effective_date=date(2026, 8, 15))]


def _client(**kw) -> Row:
    values = dict(id="CL1", kind="particulier", civility=None, first_name="Marie", last_name="Durand",
                  company_name=None, insurance_contact=None, address="12 rue de la Corniche", postal_code="13007",
                  city="Marseille", email="marie.durand@example.fr", opposition_email=False, opposition_letter=False)
    values.update(kw)
    return Row(**values)


def _ctx(notification: str = "client_letter", adv=MARGARET, **client):
    return _case_context(notification, {}, CASE, _client(**client), adv, CONTRACTS)


@pytest.mark.parametrize("civility, opening, closing", [
    ("Mme", "Madame,", "Je vous prie d'agréer, Madame, l'expression"),
    ("M.", "Monsieur,", "Je vous prie d'agréer, Monsieur, l'expression"),
    (None, "Madame, Monsieur,", "Je vous prie d'agréer, Madame, Monsieur, l'expression"),
])
def test_render__letter_salutation_follows_the_civility(civility, opening, closing):
    body = _render("client_letter.txt.j2", _ctx(civility=civility))
    assert body.splitlines()[0] == opening and closing in body


def test_render__an_entreprise_letter_to_its_insurance_contact_opens_neutrally():
    ctx = _ctx(kind="entreprise", civility="M.", company_name="Logiciels du Sud SAS",
               insurance_contact="Paul Martin, DAF")
    assert _render("client_letter.txt.j2", ctx).splitlines()[0] == "Madame, Monsieur,"  # the contact's civility is unknown
    assert ctx["client"]["postal_lines"][:2] == ["Logiciels du Sud SAS", "À l'attention de Paul Martin, DAF"]


def test_render__the_envelope_and_the_email_greeting_use_the_civility():
    ctx = _ctx(civility="Mme")
    assert ctx["client"]["postal_lines"][0] == "Madame Marie Durand"
    assert ctx["client"]["greeting_name"] == "Madame Durand"
    assert _ctx(civility=None)["client"]["greeting_name"] == "Marie Durand"


def test_render__the_email_comes_from_the_agency_with_the_advisors_name():
    out = render_email("documents_request", dict(_ctx(notification="documents_request"), missing=[], missing_count=0))
    assert out.mail_from == "Margaret Hebert – Allianz Corniche <corniche@agence.example>"
    msg = build_message(out, to="marie.durand@example.fr", mail_from=out.mail_from, msg_id="<m3.1.x@test>",
                        date=NOW, kind="documents_request")
    parsed = email.message_from_bytes(msg.data, policy=email.policy.default)
    assert str(parsed["From"]) == "Margaret Hebert – Allianz Corniche <corniche@agence.example>"
    assert msg.mail_from == "corniche@agence.example"  # the envelope sender: the agency's address
    assert out.reply_to == "margaret.hebert@agence.example"
    assert "Margaret Hebert\nChargée de clientèle — Agence Corniche" in out.text


def test_render__without_an_advisor_the_sender_is_the_agency_and_unsafe_characters_are_dropped():
    assert _ctx(adv=None)["mail_from"] == "Allianz Corniche <corniche@agence.example>"
    assert sender({"email": "corniche@agence.example", "name": "Agence"}, 'Eve "<x>"\r\nBcc: y') == \
        "Eve x Bcc: y – Agence <corniche@agence.example>"
    assert sender({"email": "", "name": "Agence"}, "Eve") is None  # M3_MAIL_FROM then


def test_render__no_title_recorded_prints_none_rather_than_a_wrong_one():
    adv = Row(**{**MARGARET.__dict__, "title": None})
    out = render_email("documents_request", dict(_ctx(notification="documents_request", adv=adv), missing=[], missing_count=0))
    assert "Margaret Hebert\nAgence Corniche" in out.text and "Chargé de clientèle" not in out.text


def test_render__the_orias_number_is_printed_where_orias_is_mentioned(monkeypatch):
    info = agency_info("corniche")
    assert info["orias"] and f"ORIAS sous le n° {info['orias']}" in info["legal"] and "{orias}" not in info["legal"]
    letters = []
    real_build = letter_pdf.build
    monkeypatch.setattr(letter_pdf, "build", lambda letter: letters.append(letter) or real_build(letter))
    render_letter(5, _ctx(civility="Mme"), NOW)
    [letter] = letters
    assert f"n° {info['orias']}" in letter.legal
    assert letter.signer_name == "Margaret Hebert" and letter.signer_title == "Chargée de clientèle — Agence Corniche"


def test_render__an_agency_without_an_orias_number_prints_no_empty_number(monkeypatch):
    from notifications import context

    data = {"x": {"name": "Agence X", "legal": "Immatriculé à l'ORIAS sous le n° {orias} (www.orias.fr)",
                  "orias": "", "email": ""}}
    monkeypatch.setattr(context, "agencies", lambda: data)
    assert context.agency_info("x")["legal"] == "Immatriculé à l'ORIAS (www.orias.fr)"
