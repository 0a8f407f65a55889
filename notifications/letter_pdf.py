"""The postal letter as an A4 PDF ready to print: letterhead, address in the window, place and
date, object, body, the advisor's signature, the agency's legal line.

The address block sits where a French DL window envelope (window on the right) shows it:
about 110 mm from the left edge and 45 mm from the top. Fonts: DejaVu Sans when the system has
it (every character the templates use); otherwise fpdf2's core Helvetica, which is latin-1
only, so the text is folded to latin-1 first ("’" -> "'", "œ" -> "oe", "€" -> "EUR").
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/local/share/fonts/dejavu"))
BLUE = (0, 55, 129)
WINDOW_X, WINDOW_Y, WINDOW_W = 110, 45, 80  # the DL envelope's window (mm); the signature column too
_LATIN1 = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...",
                         "œ": "oe", "Œ": "OE", "€": "EUR", "\u202f": " ", "\u2009": " "})


@dataclass(frozen=True)
class Letter:
    sender_lines: list[str]  # agency name first
    recipient_lines: list[str]
    place_date: str  # "Marseille, le 21 novembre 2026"
    reference: str
    subject: str
    body: str  # paragraphs separated by blank lines; "- " starts a bullet
    signer_name: str
    signer_title: str
    notice: str = ""  # small print above the legal line (opposition)
    legal: str = ""


def _font_files() -> tuple[Path, Path] | None:
    for d in FONT_DIRS:
        regular, bold = d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class AgencyPdf(FPDF):
    """An A4 page of the agency's documents (letters, the bilan): the Unicode font when the machine
    has one, else core Helvetica with the text folded to Latin-1 (`t`)."""

    def __init__(self, bottom_margin: float) -> None:
        super().__init__(format="A4", unit="mm")
        fonts = _font_files()
        if fonts:
            self.add_font("Body", "", str(fonts[0]))
            self.add_font("Body", "B", str(fonts[1]))
            self.family_name, self.unicode = "Body", True
        else:
            self.family_name, self.unicode = "Helvetica", False
        self.set_margins(20, 15, 20)
        self.set_auto_page_break(True, margin=bottom_margin)

    def t(self, text: str) -> str:
        if self.unicode:
            return text
        return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


class _Pdf(AgencyPdf):
    def __init__(self, letter: Letter) -> None:
        super().__init__(bottom_margin=28)
        self.letter = letter

    def footer(self) -> None:
        self.set_y(-24)
        self.set_draw_color(*BLUE)
        self.line(20, self.get_y(), 190, self.get_y())
        self.ln(1.5)
        self.set_font(self.family_name, "", 7)
        self.set_text_color(90, 90, 90)
        if self.letter.notice:
            self.multi_cell(0, 3.2, self.t(self.letter.notice), align="L", new_x="LMARGIN", new_y="NEXT")
        if self.letter.legal:
            self.multi_cell(0, 3.2, self.t(self.letter.legal), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)


def build(letter: Letter) -> bytes:
    """Every text is a multi_cell: a long name, address, attention line or title wraps inside its
    box (the window, the signature column, the margins) instead of running off the page, and the
    blocks after a long one move down rather than overlap it."""
    pdf = _Pdf(letter)
    pdf.set_title(pdf.t(letter.subject))
    pdf.set_author(pdf.t(letter.sender_lines[0] if letter.sender_lines else ""))
    pdf.set_creator("Suivi M+3")
    pdf.add_page()
    f = pdf.family_name
    # Letterhead
    pdf.set_text_color(*BLUE)
    pdf.set_font(f, "B", 15)
    pdf.multi_cell(0, 7, pdf.t(letter.sender_lines[0] if letter.sender_lines else ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(60, 60, 60)
    pdf.set_font(f, "", 9)
    for line in letter.sender_lines[1:]:
        pdf.multi_cell(0, 4.5, pdf.t(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    # Recipient, in the envelope's window (80 mm wide from x = 110: lines wrap inside it)
    pdf.set_xy(WINDOW_X, max(WINDOW_Y, pdf.get_y() + 4))
    pdf.set_font(f, "", 11)
    for line in letter.recipient_lines:
        pdf.set_x(WINDOW_X)
        pdf.multi_cell(WINDOW_W, 5.5, pdf.t(line), new_x="LMARGIN", new_y="NEXT")
    # Place and date, reference, object
    pdf.set_xy(WINDOW_X, max(85, pdf.get_y() + 6))
    pdf.multi_cell(WINDOW_W, 5.5, pdf.t(letter.place_date), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(100, pdf.get_y() + 8))
    pdf.set_font(f, "", 9)
    if letter.reference:
        pdf.multi_cell(0, 5, pdf.t(letter.reference), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(f, "B", 11)
    pdf.multi_cell(0, 5.5, pdf.t(f"Objet : {letter.subject}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    # Body
    pdf.set_font(f, "", 10.5)
    for para in [p.strip("\n") for p in letter.body.strip().split("\n\n")]:
        for line in para.split("\n"):
            if line.startswith("- "):
                pdf.set_x(26)
                pdf.cell(4, 5.2, pdf.t("•" if pdf.unicode else "-"))
                pdf.multi_cell(0, 5.2, pdf.t(line[2:].strip()), align="J", new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.multi_cell(0, 5.2, pdf.t(line.strip()), align="J", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    # Signature, in the right-hand column
    pdf.ln(8)
    pdf.set_x(WINDOW_X)
    pdf.set_font(f, "B", 10.5)
    pdf.multi_cell(WINDOW_W, 5.5, pdf.t(letter.signer_name), new_x="LMARGIN", new_y="NEXT")
    if letter.signer_title:
        pdf.set_x(WINDOW_X)
        pdf.set_font(f, "", 10)
        pdf.multi_cell(WINDOW_W, 5, pdf.t(letter.signer_title), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
