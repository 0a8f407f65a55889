"""Long fields on a letter wrap inside the page: every line fpdf2 lays out is measured, at the
field limits the CRM import enforces (states.people.CLIENT_TEXT_LIMITS, docs/import.md)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace as Row

import pytest
from fpdf import FPDF

from notifications import letter_pdf
from notifications.context import _case_context
from notifications.render import render_letter
from states.people import ADVISOR_NAME_LIMIT, ADVISOR_TITLE_LIMIT, CLIENT_TEXT_LIMITS

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
EPS = 0.01  # mm


@pytest.fixture
def lines(monkeypatch):
    """Every text line laid out: (page, x of its text, its width, page width, right margin, y, page height, text)."""
    seen = []
    original = FPDF._render_styled_text_line

    def spy(self, text_line, h=None, *args, **kwargs):
        text = "".join(frag.string for frag in text_line.fragments)
        if text.strip():
            # A `cell` does not measure its line (text_width 0): measure it in the current font.
            width = max(text_line.text_width, self.get_string_width(text))
            seen.append((self.page, self.x + self.c_margin, width, self.w, self.r_margin, self.y, self.h, text))
        return original(self, text_line, h, *args, **kwargs)

    monkeypatch.setattr(FPDF, "_render_styled_text_line", spy)
    return seen


def _overflowing(seen):
    return [(round(x + width, 2), text[:40]) for _, x, width, w, right, _, _, text in seen if x + width > w - right + EPS]


def _at_limit(name: str, word: str = "Établissements") -> str:
    """A value of exactly the field's limit, made of real words."""
    text = (word + " ") * (CLIENT_TEXT_LIMITS[name] // (len(word) + 1) + 1)
    return text[:CLIENT_TEXT_LIMITS[name]]


def test_letter_pdf__the_check_sees_a_line_that_runs_off_the_page(lines):
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    pdf.set_x(110)
    pdf.cell(0, 5, "À l'attention de " + "Monsieur le Directeur administratif et financier " * 3)
    assert _overflowing(lines)  # what the letter did with a long attention line before (issue 7)


@pytest.mark.parametrize("unicode_font", [True, False])
@pytest.mark.parametrize("kind", ["entreprise", "particulier"])
def test_letter_pdf__fields_at_their_limits_wrap_inside_the_margins(lines, monkeypatch, unicode_font, kind):
    if not unicode_font:
        monkeypatch.setattr(letter_pdf, "_font_files", lambda: None)
    client = Row(id="C" * 64, kind=kind, civility="M.", first_name=_at_limit("first_name", "Jean-Baptiste"),
                 last_name=_at_limit("last_name", "Castelnau-Montmirail"),
                 company_name=_at_limit("company_name", "Coopérative"),
                 insurance_contact=_at_limit("insurance_contact", "Responsable"),
                 address=_at_limit("address", "Résidence"), postal_code="13007", city=_at_limit("city", "Saint-Rémy"),
                 email="x@example.fr", opposition_email=False, opposition_letter=False)
    # Unbreakable words at a limit too: fpdf2 must break them inside the window.
    client.last_name = "W" * CLIENT_TEXT_LIMITS["last_name"]
    client.insurance_contact = "Z" * CLIENT_TEXT_LIMITS["insurance_contact"]
    client.company_name = "Coopérative" + "Y" * (CLIENT_TEXT_LIMITS["company_name"] - 11)
    adv = Row(id=1, name="A" * 200, email="a@agence.example", first_name="Marie-Hélène" * 8,
              last_name=("Van der " * 20)[:ADVISOR_NAME_LIMIT], title=("Chargée de clientèle " * 6)[:ADVISOR_TITLE_LIMIT])
    case = Row(id=2_147_483_647, due_date=date(2026, 11, 15), window_end=date(2026, 11, 22), state="courrier_envoye",
               agency_id="corniche")
    contracts = [Row(id=f"K{i}", product="Multirisque professionnelle " * 4, family="IARD",
                     effective_date=date(2026, 8, 15)) for i in range(6)]
    ctx = _case_context("client_letter", {}, case, client, adv, contracts)
    out = render_letter(1, ctx, NOW)
    assert out.pdf.startswith(b"%PDF-")
    assert lines, "no text laid out"
    assert _overflowing(lines) == []
    assert all(0 <= y <= h for _, _, _, _, _, y, h, _ in lines)
    texts = " ".join(t for *_, t in lines)
    printed = ("Coopérative", "YYYY", "ZZZZ") if kind == "entreprise" else ("Monsieur Jean-Baptiste", "WWWW")
    assert all(p in texts for p in printed)  # printed, wrapped, not dropped
    # The blocks after the address move down rather than overlap it: the date line comes after the
    # last address line, and the reference after the date.
    first_page = [(y, t) for page, _, _, _, _, y, _, t in lines if page == 1]
    last_address = max(y for y, t in first_page if "SAINT-R" in t)  # the city, upper case
    date_y = next(y for y, t in first_page if t.startswith("Marseille, le"))
    reference_y = next(y for y, t in first_page if t.startswith("Vos références"))
    assert last_address < date_y < reference_y
