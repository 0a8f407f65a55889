"""The frozen bilan as an A4 PDF for the client file (and the client: a durable medium).

Rendered from the record's content only (states/bilan.py record_content), with the agency's
letterhead (templates/agencies.toml), in French. The same record renders the same document:
the PDF's dates are the bilan's own, never the time of rendering. Fonts and the latin-1 fallback
are the letter's (notifications/letter_pdf.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from notifications import fr
from notifications.letter_pdf import BLUE, AgencyPdf
from states.calendar import PARIS

FAMILY_ORDER = ("IARD", "Santé", "Prévoyance", "Épargne")
DDA_NOTICE = ("Document établi au titre du devoir de conseil (article L521-4 du Code des assurances) : il "
              "retrace les besoins que vous nous avez exprimés, les conseils que nous vous avons donnés et "
              "leurs motifs, et vos décisions. Conservez-le avec vos contrats ; il n'est jamais modifié : un "
              "nouveau bilan fait l'objet d'un nouveau document.")
_YES_NO = {True: "oui", False: "non", None: "à demander"}
_HOUSING = {"owner": "propriétaire", "tenant": "locataire", "hosted": "hébergé"}


class _Pdf(AgencyPdf):
    def __init__(self, legal: str) -> None:
        super().__init__(bottom_margin=30)
        self.legal = legal

    def footer(self) -> None:
        self.set_y(-26)
        self.set_draw_color(*BLUE)
        self.line(20, self.get_y(), 190, self.get_y())
        self.ln(1.5)
        self.set_font(self.family_name, "", 6.8)
        self.set_text_color(90, 90, 90)
        self.multi_cell(0, 3, self.t(DDA_NOTICE), align="L", new_x="LMARGIN", new_y="NEXT")
        if self.legal:
            self.multi_cell(0, 3, self.t(self.legal), align="L", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 3, self.t(f"Page {self.page_no()}/{{nb}}"), align="R")
        self.set_text_color(0, 0, 0)

    # -- building blocks
    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(self.family_name, "B", 11.5)
        self.set_text_color(*BLUE)
        self.multi_cell(0, 6, self.t(text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_font(self.family_name, "", 10)

    def para(self, text: str, size: float = 10, bold: bool = False) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)
        self.multi_cell(0, 5, self.t(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family_name, "", 10)

    def bullet(self, text: str, sub: list[str] = ()) -> None:
        self.set_x(24)
        self.cell(4, 5, self.t("•" if self.unicode else "-"))
        self.multi_cell(0, 5, self.t(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family_name, "", 9)
        self.set_text_color(60, 60, 60)
        for line in sub:
            if line:
                self.set_x(28)
                self.multi_cell(0, 4.5, self.t(line), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_font(self.family_name, "", 10)

    def pair(self, label: str, value: str) -> None:
        self.set_font(self.family_name, "B", 10)
        self.cell(48, 5, self.t(label))
        self.set_font(self.family_name, "", 10)
        self.multi_cell(0, 5, self.t(value), new_x="LMARGIN", new_y="NEXT")


def _count(v: Any) -> str:
    return "à demander" if v is None else str(v)


def _situation_lines(s: dict[str, Any]) -> list[tuple[str, str]]:
    kind = s.get("kind")
    lines = []
    if kind != "entreprise":
        lines += [("Enfants au foyer", _count(s.get("children_at_home"))),
                  ("En couple", _YES_NO[s.get("couple")]),
                  ("Logement", _HOUSING.get(s.get("housing") or "", "à demander"))]
    lines.append(("Véhicules", _count(s.get("vehicles"))))
    if kind == "professionnel":
        lines.append(("Travailleur non salarié", _YES_NO[s.get("tns")]))
    if kind == "entreprise":
        lines += [("Salariés", _count(s.get("employees"))), ("Cadres", _count(s.get("cadres")))]
    return lines


def _line(item: dict[str, Any], elsewhere: bool) -> tuple[str, list[str]]:
    text = f"{item['family']} — {item['product']}"
    sub = []
    if elsewhere and item.get("insurer"):
        sub.append(f"Assureur : {item['insurer']}")
    if item.get("renewal_date"):
        sub.append(f"Échéance : {fr.date_short(item['renewal_date'])}")
    return text, sub


def _action_line(action: dict[str, Any] | None) -> str:
    if not action:
        return ""
    what = action.get("label") or fr.action_label(action.get("kind"))
    status = f" ({action['devis_status_label']})" if action.get("devis_status_label") else ""
    due = f", échéance le {fr.date_short(action['due_date'])}" if action.get("due_date") else ""
    return f"Suite prévue : {what}{status}{due}"


def _decision_line(label: str | None) -> str:
    return f"Votre décision : {label}" if label else "Votre décision : non indiquée"


def build(content: dict[str, Any], agency: dict[str, Any]) -> bytes:
    """The PDF of one frozen bilan record (`content`), on `agency`'s letterhead."""
    made_at = datetime.fromisoformat(content["made_at"])
    local = made_at.astimezone(PARIS)
    client = content.get("client") or {}
    advisor = content.get("advisor") or {}
    pdf = _Pdf(agency.get("legal", ""))
    pdf.alias_nb_pages()
    pdf.set_creation_date(made_at)
    title = f"Bilan global de vos assurances n° {content['seq']}"
    pdf.set_title(pdf.t(title))
    pdf.set_author(pdf.t(agency.get("name", "")))
    pdf.set_creator("Suivi M+3")
    pdf.add_page()
    f = pdf.family_name
    # Letterhead
    pdf.set_text_color(*BLUE)
    pdf.set_font(f, "B", 15)
    pdf.cell(0, 7, pdf.t(agency.get("name", "")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(60, 60, 60)
    pdf.set_font(f, "", 9)
    contact = " — ".join(p for p in (f"Tél. {agency['phone']}" if agency.get("phone") else "",
                                     agency.get("email") or "") if p)
    for line in [agency.get("network", ""), *agency.get("address", []), contact]:
        if line:
            pdf.cell(0, 4.5, pdf.t(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    pdf.set_font(f, "", 10)
    pdf.cell(0, 5, pdf.t(f"{agency.get('place') or 'Marseille'}, le {fr.date_long(local.date())}"), align="R",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(f, "B", 14)
    pdf.multi_cell(0, 7, pdf.t(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.pair("Client", f"{client.get('display_name', '')} (n° {client.get('id', '')})")
    pdf.pair("Conseiller", advisor.get("name") or agency.get("name", ""))
    pdf.pair("Date du bilan", f"{fr.date_long(local.date())} à {local:%H:%M}")
    pdf.pair("Dossier", f"suivi M+3 n° {content.get('case_id')}")

    pdf.heading("Votre situation")
    for label, value in _situation_lines(content.get("situation") or {}):
        pdf.pair(label, value)

    inventory = content.get("inventory") or {}
    pdf.heading("Vos contrats chez nous")
    here = inventory.get("chez_nous") or []
    for item in sorted(here, key=lambda i: (FAMILY_ORDER.index(i["family"]) if i["family"] in FAMILY_ORDER else 9)):
        text, sub = _line(item, False)
        pdf.bullet(text, sub)
    if not here:
        pdf.para("Aucun contrat enregistré.")
    pdf.heading("Vos contrats chez d'autres assureurs")
    elsewhere = inventory.get("ailleurs") or []
    for item in elsewhere:
        text, sub = _line(item, True)
        pdf.bullet(text, sub)
    if not elsewhere:
        pdf.para("Aucun contrat détenu ailleurs, selon vos déclarations." if content.get("nothing_elsewhere")
                 else "Aucun contrat détenu ailleurs n'a été indiqué.")

    pdf.heading("Vos besoins")
    needs = content.get("needs") or []
    for need in needs:
        pdf.bullet(need.get("detail") or need.get("kind_label", ""),
                   [_action_line(need.get("action")), _decision_line(need.get("client_decision_label"))])
    if not needs:
        pdf.para("Vous nous avez indiqué être satisfait de vos garanties actuelles." if content.get("satisfied")
                 else "Aucun besoin complémentaire exprimé.")

    advice = content.get("advice") or []
    if advice:
        pdf.heading("Nos conseils et leurs motifs")
        for item in advice:
            d = item.get("decision") or {}
            reason = item.get("reason") or ""
            if d.get("decision") == "accepted":
                pdf.bullet(f"Conseillé : {item['product']}", [f"Motif : {reason}" if reason else "",
                                                              _decision_line(_client_label(item))])
            elif d.get("decision") == "dismissed":
                pdf.bullet(f"Non retenu : {item['product']}", [f"Motif du conseiller : {d.get('reason') or ''}",
                                                               f"Constat : {reason}" if reason else ""])
            else:
                questions = " ".join(item.get("questions") or [])
                pdf.bullet(f"À étudier : {item['product']}", [f"Motif : {reason}" if reason else "",
                                                              f"À préciser : {questions}" if questions else ""])

    changes = content.get("situation_changes") or []
    if changes:
        pdf.heading("Changements de situation")
        for c in changes:
            sub = [_action_line(c.get("action")), _decision_line(c.get("client_decision_label"))]
            if c.get("correction_seq"):
                sub.insert(0, "Votre dossier a été mis à jour en conséquence.")
            pdf.bullet(c.get("detail") or "Changement de situation", sub)

    questions = content.get("questions") or []
    if questions:
        pdf.heading("Vos questions et nos réponses")
        for q in questions:
            pdf.bullet(q.get("detail") or "Question", [f"Réponse : {q.get('answer') or ''}"])

    pdf.ln(8)
    pdf.set_font(f, "B", 10.5)
    pdf.cell(0, 5.5, pdf.t(advisor.get("name") or ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(f, "", 10)
    pdf.cell(0, 5, pdf.t(agency.get("name", "")), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _client_label(item: dict[str, Any]) -> str | None:
    return {"accepted": "accepté", "refused": "refusé", "to_think": "à réfléchir"}.get(item.get("client_decision") or "")


def filename(case_id: int, seq: int) -> str:
    return f"bilan-{case_id}-{seq}.pdf"
