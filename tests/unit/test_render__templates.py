"""Rendering without a database: digests and reminders (payload only), the letter PDF, the
MIME message, French dates and the retry schedule."""
from __future__ import annotations

import email
import email.policy
import io
import re
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader

from notifications import fr, letter_pdf
from notifications.context import _digest_extras, agency_info, contracts_phrase
from notifications.delivery import backoff
from notifications.render import render_email, render_letter
from notifications.smtp_sender import build_message, encoded_words, message_id

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
CASE = {"case_id": 7, "client_name": "Zoé L’Hôpital & fils <SARL>", "due_date": "2026-11-15",
        "window_end": "2026-11-22", "state": "a_contacter", "priority": 35, "late": True}
LEFTOVERS = re.compile(r"\{\{|\}\}|\{%|%\}|Undefined")


def _ctx(kind: str, payload: dict) -> dict:
    ctx = dict(payload)
    ctx["agency"] = agency_info(None, payload.get("agency_name"))
    return _digest_extras(kind, ctx)


def _clean(text: str) -> None:
    assert not LEFTOVERS.search(text), LEFTOVERS.search(text)


def test_render__advisor_digest_french_text_and_html():
    out = render_email("advisor_digest", _ctx("advisor_digest", {
        "advisor_name": "Julie Martin", "as_of": "2026-11-21", "cases": [CASE, dict(CASE, case_id=8, late=False)]}))
    assert out.subject == "Suivi M+3 — vos dossiers au 21 novembre 2026 : 2 en cours, dont 1 en retard"
    assert "Bonjour Julie Martin," in out.text and "EN RETARD" in out.text and "15/11/2026" in out.text
    assert "À contacter" in out.text
    assert "<table" in out.html and "En retard" in out.html
    # autoescape in HTML, raw text in the text part
    assert "&lt;SARL&gt;" in out.html and "&amp; fils" in out.html and "<SARL>" not in out.html
    assert "Zoé L’Hôpital & fils <SARL>" in out.text
    assert out.internal and out.list_unsubscribe is None
    for part in (out.subject, out.text, out.html):
        _clean(part)


def test_render__manager_digest_uses_agency_letterhead_name():
    out = render_email("manager_digest", _ctx("manager_digest", {
        "agency_name": "Rouvière", "as_of": "2026-11-21", "week": "2026-W47",
        "by_advisor": [{"advisor_name": "Julie Martin", "overdue": 2}, {"advisor_name": "Paul Roux", "overdue": 1}],
        "cases": [CASE]}))
    assert out.subject == "Suivi M+3 — Agence Rouvière — semaine 2026-W47 : 3 dossiers en retard"
    assert "de l'Agence Rouvière au 21 novembre 2026" in out.text
    assert "- Julie Martin : 2" in out.text
    _clean(out.text + out.html)


def test_render__action_reminder_flags_overdue_actions():
    out = render_email("action_reminder", _ctx("action_reminder", {
        "owner_name": "Julie Martin", "as_of": "2026-11-21", "actions": [
            {"case_id": 7, "client_name": "Marie Dupont", "kind": "devis", "label": "Devis habitation",
             "due_date": "2026-11-20"},
            {"case_id": 9, "client_name": "Paul Roux", "kind": "rdv", "label": None, "due_date": "2026-11-24"}]}))
    assert out.subject == "Suivi M+3 — 2 actions à traiter au 21 novembre 2026"
    assert "20/11/2026 (DÉPASSÉE) · Devis : Devis habitation · Marie Dupont" in out.text
    assert "24/11/2026 · Rendez-vous · Paul Roux" in out.text
    _clean(out.text + out.html)


def test_render__empty_digest_says_so():
    out = render_email("advisor_digest", _ctx("advisor_digest", {"advisor_name": "A", "as_of": "2026-11-21",
                                                                   "cases": []}))
    assert "Aucun dossier." in out.text and "Aucun dossier." in out.html


def test_render__missing_variable_is_an_error_not_a_blank():
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        render_email("advisor_digest", {"agency": agency_info("corniche"), "cases": [], "late_count": 0})


def _letter_ctx() -> dict:
    return {
        "agency": agency_info("rouviere"),
        "advisor": {"name": "Julie Martin", "email": "julie.martin@agence.example", "title": "Chargé de clientèle"},
        "client": {"id": "CL1", "postal_lines": ["Zoé Lœwy", "12 rue de l’Œuvre", "13009 MARSEILLE"],
                   "greeting_name": "Zoé Lœwy", "salutation": "Madame, Monsieur"},
        "case": {"id": 42}, "contracts_phrase": contracts_phrase(["Auto", "Habitation"]),
    }


def test_render__letter_is_a_one_page_a4_pdf():
    out = render_letter(5, _letter_ctx(), NOW)
    assert out.filename == "letter-5-case-42.pdf"
    assert out.pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", out.pdf)) == 1
    assert b"/MediaBox [0 0 595.28 841.89]" in out.pdf  # A4 in points
    assert out.subject == "Mise à jour de votre dossier et bilan de vos assurances"


def _pdf_text(pdf: bytes) -> tuple[str, list]:
    """(the PDF's text, whitespace folded: line breaks depend on the font's widths; its fonts)."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join("".join(page.extract_text() for page in reader.pages).split())
    return text, [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]


# What the latin-1 fallback must make of the characters the core fonts lack (letter_pdf's docstring).
FOLDED = {"’": "'", "œ": "oe", "Œ": "OE", "—": "-", "–": "-", "…": "...", "•": "-"}


def test_render__letter_latin1_fallback_without_unicode_font(monkeypatch):
    ctx = _letter_ctx()
    ctx["client"]["postal_lines"][1] = "12 rue de l’Œuvre – bât. B…"
    unicode_pdf = render_letter(5, ctx, NOW).pdf
    monkeypatch.setattr(letter_pdf, "_font_files", lambda: None)
    out = render_letter(5, ctx, NOW)
    assert out.pdf.startswith(b"%PDF-")
    text, fonts = _pdf_text(out.pdf)
    # Only the core Helvetica (latin-1, nothing embedded) ...
    assert fonts and all(f["/BaseFont"] in ("/Helvetica", "/Helvetica-Bold") and "/FontDescriptor" not in f
                         and "/DescendantFonts" not in f for f in fonts)
    # ... so every character outside latin-1 is folded to its plain form, never dropped or "?" ...
    assert "Zoé Loewy" in text and "12 rue de l'OEuvre - bât. B..." in text
    assert "client CL1 - dossier M+3 n° 42" in text and "Chargé de clientèle - Agence Rouvière" in text
    assert all(ord(ch) < 256 for ch in text) and "?" not in text and not set(FOLDED) & set(text)
    # ... and the latin-1 letters (é, è, à, °) are kept as they are.
    assert {"é", "è", "à", "°"} <= set(text)
    unicode_text, unicode_fonts = _pdf_text(unicode_pdf)
    if any("/DescendantFonts" in f for f in unicode_fonts):  # DejaVu found on this machine: same letter, folded
        assert set(FOLDED) <= set(unicode_text)
        assert unicode_text.translate(str.maketrans(FOLDED)) == text


def test_render__contracts_phrase():
    assert contracts_phrase(["Auto"]) == "votre contrat Auto"
    assert contracts_phrase(["Auto", "Habitation", "Auto", "Santé"]) == "vos contrats Auto, Habitation et Santé"


@pytest.mark.parametrize("value,long,short", [
    (date(2026, 11, 21), "21 novembre 2026", "21/11/2026"),
    ("2026-05-01", "1er mai 2026", "01/05/2026"),
    (datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc), "1er mars 2026", "01/03/2026"),  # Paris time
    (None, "", ""),
])
def test_render__french_dates(value, long, short):
    assert fr.date_long(value) == long and fr.date_short(value) == short


def test_render__message_is_multipart_alternative_with_stable_id():
    out = render_email("advisor_digest", _ctx("advisor_digest", {"advisor_name": "Julie", "as_of": "2026-11-21",
                                                                   "cases": [CASE]}))
    mid = message_id(12, "digest:advisor:3:2026-11-21")
    assert mid == message_id(12, "digest:advisor:3:2026-11-21") and re.fullmatch(r"<m3\.12\.[0-9a-f]{12}@suivi-m3\.local>", mid)
    assert mid != message_id(12, "digest:advisor:3:2026-11-22")
    msg = build_message(out, to="julie@agence.example", mail_from="Suivi M+3 — Agence <suivi@agence.example>",
                        msg_id=mid, date=NOW, kind="advisor_digest")
    assert msg.mail_from == "suivi@agence.example"
    parsed = email.message_from_bytes(msg.data, policy=email.policy.default)
    assert parsed["Message-ID"] == mid and parsed["Subject"] == out.subject
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert plain.replace("\r\n", "\n") == out.text and "<table" in html
    assert all(len(line) <= 998 for line in msg.data.split(b"\r\n"))


def test_render__encoded_words_never_split_a_character():
    value = "Réf. " + "é€œ’" * 40
    encoded = encoded_words(value)
    assert str(email.header.make_header(email.header.decode_header(encoded))) == value
    assert encoded_words("plain ascii") == "plain ascii"


def test_render__header_injection_refused():
    out = render_email("action_reminder", _ctx("action_reminder", {"owner_name": "A", "as_of": "2026-11-21",
                                                                     "actions": []}))
    with pytest.raises(ValueError):
        build_message(out, to="a@b.example\r\nBcc: x@y.example", mail_from="a@b.example", msg_id="<x@y>",
                      date=NOW, kind="action_reminder")


def test_render__backoff_doubles_and_is_capped():
    assert [backoff(n, 30, 3600).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
