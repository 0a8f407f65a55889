"""Render a notification: French Jinja2 templates to an email (subject, text, HTML) or a letter (PDF).

One Environment for the process: templates compile once. StrictUndefined turns a missing
variable into an error instead of a blank in a client's email; HTML templates autoescape
(client names and products come from the CRM), text templates do not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Connection

from notifications import context as ctxmod
from notifications import bilan_pdf, fr, letter_pdf
from states.calendar import PARIS

EMAIL_KINDS = ("client_email", "documents_request", "advisor_digest", "manager_digest", "action_reminder")
EMAIL_KINDS = EMAIL_KINDS + ctxmod.APPOINTMENT_KINDS  # appointment_confirmation, appointment_cancellation
EMAIL_KINDS = EMAIL_KINDS + ctxmod.BILAN_KINDS  # bilan_email, its PDF attached
LETTER_KINDS = ("client_letter",)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    reply_to: str | None = None
    list_unsubscribe: str | None = None  # set on messages with a commercial purpose
    list_unsubscribe_mailto: str | None = None  # a second List-Unsubscribe target (the agency's address)
    one_click: bool = False  # RFC 8058: List-Unsubscribe-Post, the link answers a POST
    internal: bool = False  # a message to staff (digests, reminders)
    mail_from: str | None = None  # a client's email: "<advisor> – Allianz Corniche <agency address>"
    attachments: tuple[Attachment, ...] = ()  # files sent with it (the bilan's PDF)


@dataclass(frozen=True)
class Attachment:
    filename: str  # ASCII
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RenderedLetter:
    pdf: bytes
    filename: str
    subject: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(ctxmod.TEMPLATES)),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True,
    )
    env.filters.update(date_long=fr.date_long, date_short=fr.date_short, state_label=fr.state_label,
                       action_label=fr.action_label)
    return env


def _render(name: str, ctx: dict[str, Any]) -> str:
    return environment().get_template(name).render(ctx)


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out) + "\n"


def render_email(kind: str, ctx: dict[str, Any]) -> RenderedEmail:
    subject = " ".join(_render(f"{kind}.subject.txt.j2", ctx).split())
    ctx = dict(ctx, subject=subject)
    client_facing = kind in ctxmod.CLIENT_KINDS
    return RenderedEmail(
        subject=subject, text=_tidy_text(_render(f"{kind}.txt.j2", ctx)), html=_render(f"{kind}.html.j2", ctx),
        reply_to=(ctx["advisor"].get("email") or ctx["agency"].get("email") or None) if client_facing else None,
        list_unsubscribe=(ctx.get("unsubscribe_url") or ctx.get("unsubscribe_mailto") or None)
        if kind in ctxmod.MARKETING_KINDS else None,
        list_unsubscribe_mailto=(ctx.get("unsubscribe_mailto") or None)
        if kind in ctxmod.MARKETING_KINDS and ctx.get("unsubscribe_url") else None,
        one_click=kind in ctxmod.MARKETING_KINDS and bool(ctx.get("unsubscribe_url")),
        internal=not client_facing,
        mail_from=ctx.get("mail_from") if client_facing else None,
        attachments=_bilan_attachment(ctx) if kind in ctxmod.BILAN_KINDS else (),
    )


def _bilan_attachment(ctx: dict[str, Any]) -> tuple[Attachment, ...]:
    """The frozen bilan's PDF (notifications/bilan_pdf.py), the same document the API serves."""
    bilan = ctx["bilan"]
    return (Attachment(bilan_pdf.filename(ctx["case"]["id"], bilan["seq"]), "application/pdf",
                       bilan_pdf.build(bilan["content"], ctx["agency"])),)


def render_letter(notification_id: int, ctx: dict[str, Any], now: datetime) -> RenderedLetter:
    agency, advisor, client = ctx["agency"], ctx["advisor"], ctx["client"]
    today = now.astimezone(PARIS).date()
    subject = " ".join(_render("client_letter.subject.txt.j2", ctx).split())
    contact = " — ".join(p for p in (f"Tél. {agency['phone']}" if agency.get("phone") else "", agency.get("email"))
                         if p)
    letter = letter_pdf.Letter(
        sender_lines=[agency["name"], agency.get("network", ""), *agency.get("address", []), contact],
        recipient_lines=client["postal_lines"],
        place_date=f"{agency.get('place') or 'Marseille'}, le {fr.date_long(today)}",
        reference=f"Vos références : client {client['id']} — dossier M+3 n° {ctx['case']['id']}",
        subject=subject,
        body=_tidy_text(_render("client_letter.txt.j2", ctx)),
        signer_name=advisor["name"],
        signer_title=" — ".join(p for p in (advisor.get("title"), agency["name"]) if p),
        notice=" ".join(_render("client_letter.notice.txt.j2", ctx).split()),
        legal=agency.get("legal", ""),
    )
    return RenderedLetter(pdf=letter_pdf.build(letter), subject=subject,
                          filename=f"letter-{notification_id}-case-{ctx['case']['id']}.pdf")


def render_context(row, ctx: dict[str, Any], now: datetime) -> RenderedEmail | RenderedLetter:
    if row.kind in LETTER_KINDS:
        return render_letter(row.id, ctx, now)
    if row.kind in EMAIL_KINDS:
        return render_email(row.kind, ctx)
    raise ValueError(f"no template for notification kind {row.kind!r}")


def render(conn: Connection, row, now: datetime) -> RenderedEmail | RenderedLetter:
    """Load what notification `row` needs and render it (the letter is dated `now`, in Paris)."""
    return render_context(row, ctxmod.load(conn, row), now)
