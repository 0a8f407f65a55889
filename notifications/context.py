"""What a notification's templates need, loaded at send time.

Case-based kinds (client_email, client_letter, documents_request) read the case, its client,
its contracts, its advisor and its agency from the database, so a message shows the file as it
is when it leaves, not as it was when it was queued. Digests and reminders carry everything in
their payload and read nothing else.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from states.people import (
    addressed_name, advisor_display_name, client_display_name, person_name, postal_name, salutation,
)
from store.tables import Advisor, CaseContract, Client, Contract, FollowupCase

TEMPLATES = Path(__file__).parent / "templates"
CASE_KINDS = ("client_email", "client_letter", "documents_request")
# Appointment messages (states/appointments.py): to the client, rendered from their payload (what
# was booked, moved or cancelled) and the case. Service messages: an email opposition (which
# covers marketing) does not stop them (notifications/delivery.py).
APPOINTMENT_KINDS = ("appointment_confirmation", "appointment_cancellation")
SERVICE_KINDS = APPOINTMENT_KINDS
CASE_KINDS = CASE_KINDS + APPOINTMENT_KINDS
CLIENT_KINDS = CASE_KINDS  # messages that go to a client (opposition applies, except to SERVICE_KINDS)
# Documents to return are a service message too (domain.md, "Email and post"). The marketing
# emails (a commercial purpose: the bilan) carry the signed opt-out link and RFC 8058's
# one-click headers (notifications/optout_links.py).
SERVICE_KINDS = SERVICE_KINDS + ("documents_request",)
MARKETING_KINDS = ("client_email",)
# The frozen bilan emailed to the client, its PDF attached (states/bilan.py SendBilan): a service
# message (the durable medium of the advice given), payload {"bilan_seq", "to"}.
BILAN_KINDS = ("bilan_email",)
CASE_KINDS = CASE_KINDS + BILAN_KINDS
CLIENT_KINDS = CASE_KINDS
SERVICE_KINDS = SERVICE_KINDS + BILAN_KINDS


class MissingData(LookupError):
    """The notification refers to something that no longer exists (its case, its client)."""


@lru_cache(maxsize=1)
def agencies() -> dict[str, dict[str, Any]]:
    return tomllib.loads((TEMPLATES / "agencies.toml").read_text("utf-8"))


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def agency_info(agency_id: str | None, name: str | None = None) -> dict[str, Any]:
    """The letterhead of an agency, by id, or by its (possibly accented) name."""
    data = agencies()
    if agency_id is None and name:
        folded = _fold(name)
        agency_id = next((k for k in data if k in folded), None)
    info = data.get(agency_id or "")
    if info is None:  # an agency added in the database but not yet in agencies.toml
        info = {"name": f"Agence {name or agency_id or ''}".strip(), "network": "Allianz — Agent général",
                "address": [], "place": "Marseille", "phone": "", "email": "", "legal": "", "orias": ""}
    info = dict(info, id=agency_id)
    info.setdefault("sender_name", info["name"])
    info["orias"] = str(info.get("orias") or "")
    # `legal` names the ORIAS registration: its number comes from `orias` ("{orias}" in the text).
    legal = info.get("legal") or ""
    if "{orias}" in legal:
        legal = legal.replace("{orias}", info["orias"]) if info["orias"] else \
            re.sub(r"\s*(sous le )?n°\s*\{orias\}", "", legal)
    info["legal"] = legal
    return info


_HEADER_UNSAFE = re.compile(r'[\x00-\x1f\x7f"<>\\]+')


def sender(agency: dict[str, Any], advisor_name: str | None) -> str | None:
    """The From of a client's email: "Margaret Hebert – Allianz Corniche <corniche@...>" (the
    advisor's name and the agency, at the agency's address); None without an agency address (the
    settings' M3_MAIL_FROM then). Characters that would break the header are dropped."""
    address = (agency.get("email") or "").strip()
    if not address or _HEADER_UNSAFE.search(address):
        return None
    label = " – ".join(p for p in (advisor_name, agency.get("sender_name") or agency.get("name")) if p)
    label = " ".join(_HEADER_UNSAFE.sub(" ", label).split())
    return f"{label} <{address}>" if label else address


def contracts_phrase(products: list[str]) -> str:
    """'votre contrat Auto', 'vos contrats Auto et Habitation'."""
    products = list(dict.fromkeys(p for p in products if p))
    if not products:
        return "votre contrat"
    if len(products) == 1:
        return f"votre contrat {products[0]}"
    return f"vos contrats {', '.join(products[:-1])} et {products[-1]}"


def _client(c) -> dict[str, Any]:
    """How the client is named and addressed (states.people): the letter's salutation follows the
    civility of the person it addresses, "Madame, Monsieur" when that is unknown (an entreprise's
    insurance contact, whose civility the CRM does not give, or a blank civility)."""
    civility = getattr(c, "civility", None)
    person = person_name(c.first_name, c.last_name)
    is_company = c.kind == "entreprise" and bool(c.company_name)
    display = client_display_name(c.kind, c.first_name, c.last_name, c.company_name, "")
    addressed_civility = None if is_company and c.insurance_contact else civility
    lines = [display if is_company else (postal_name(civility, c.first_name, c.last_name) or display)]
    lines = [line for line in lines if line]
    if is_company and (c.insurance_contact or person):
        lines.append(f"À l'attention de {c.insurance_contact or postal_name(civility, c.first_name, c.last_name)}")
    if c.address:
        lines.extend(part.strip() for part in c.address.splitlines() if part.strip())
    city = " ".join(p for p in (c.postal_code, (c.city or "").upper()) if p)
    if city:
        lines.append(city)
    greeting = addressed_name(addressed_civility, c.first_name, c.last_name) if not (is_company and c.insurance_contact) \
        else c.insurance_contact.split(",")[0].strip()
    return {"id": c.id, "kind": c.kind, "display_name": display, "greeting_name": greeting or person or display,
            "civility": civility, "salutation": salutation(addressed_civility),
            "email": c.email, "postal_lines": lines, "opposition_email": bool(c.opposition_email),
            "opposition_letter": bool(c.opposition_letter)}


def load(conn: Connection, row) -> dict[str, Any]:
    """The template context of notification `row` (a Notification row: kind, case_id, payload...)."""
    ctx = load_many(conn, [row])[row.id]
    if isinstance(ctx, MissingData):
        raise ctx
    return ctx


def load_many(conn: Connection, rows: list) -> dict[int, dict[str, Any] | MissingData]:
    """The contexts of many notifications in five queries, whatever their number (a batch of
    the outbox): {notification id: context, or MissingData when its case or client is gone}."""
    case_ids = {r.case_id for r in rows if r.kind in CASE_KINDS and r.case_id is not None}
    cases, clients, advisors, contracts = {}, {}, {}, {}
    if case_ids:
        CASE = FollowupCase.__table__
        cases = {c.id: c for c in conn.execute(select(CASE).where(CASE.c.id.in_(case_ids)))}
        client_ids = {c.client_id for c in cases.values()}
        CLIENT = Client.__table__
        clients = {c.id: c for c in conn.execute(select(CLIENT).where(CLIENT.c.id.in_(client_ids)))}
        advisor_ids = {c.assigned_advisor_id for c in cases.values()} | {c.advisor_id for c in clients.values()}
        advisor_ids |= {(r.payload or {}).get("advisor_id") for r in rows if r.kind in APPOINTMENT_KINDS}
        advisor_ids.discard(None)
        if advisor_ids:
            advisors = {a.id: a for a in conn.execute(select(Advisor.id, Advisor.name, Advisor.email, Advisor.first_name,
                                                               Advisor.last_name, Advisor.title)
                                                        .where(Advisor.id.in_(advisor_ids)))}
        for k in conn.execute(
                select(CaseContract.case_id, Contract.id, Contract.product, Contract.family, Contract.effective_date)
                .join(Contract, CaseContract.contract_id == Contract.id)
                .where(CaseContract.case_id.in_(case_ids)).order_by(Contract.effective_date, Contract.id)):
            contracts.setdefault(k.case_id, []).append(k)
    bilans = _bilan_records(conn, [r for r in rows if r.kind in BILAN_KINDS])
    out: dict[int, dict[str, Any] | MissingData] = {}
    for row in rows:
        payload = dict(row.payload or {})
        if row.kind not in CASE_KINDS:
            ctx = dict(payload)
            ctx["agency"] = agency_info(None, payload.get("agency_name"))
            out[row.id] = _digest_extras(row.kind, ctx)
            continue
        case = cases.get(row.case_id)
        client = clients.get(case.client_id) if case is not None else None
        if case is None or client is None:
            out[row.id] = MissingData("case" if case is None else "client")
            continue
        # An appointment's messages are signed by the advisor the client will meet.
        adv_id = payload.get("advisor_id") if row.kind in APPOINTMENT_KINDS else None
        out[row.id] = _case_context(row.kind, payload, case, client,
                                    advisors.get(adv_id or case.assigned_advisor_id or client.advisor_id),
                                    contracts.get(case.id, []))
        if row.kind in BILAN_KINDS:
            record = bilans.get((case.id, payload.get("bilan_seq")))
            if record is None:
                out[row.id] = MissingData("bilan")
            else:
                out[row.id]["bilan"] = {"seq": record.seq, "made_at": record.made_at, "content": record.content}
    return out


def _bilan_records(conn: Connection, rows: list) -> dict[tuple[int, int], Any]:
    """The frozen bilan records the bilan emails of a batch attach, by (case id, seq)."""
    if not rows:
        return {}
    from store.tables import BilanRecord

    B = BilanRecord.__table__
    out = {}
    for r in conn.execute(select(B.c.case_id, B.c.seq, B.c.made_at, B.c.content)
                          .where(B.c.case_id.in_({r.case_id for r in rows}))):
        out[(r.case_id, r.seq)] = r
    return out


def _case_context(kind: str, payload: dict[str, Any], case, client, adv, contracts: list) -> dict[str, Any]:
    agency = agency_info(case.agency_id)
    # The advisor's own title ("Chargée de clientèle"); none recorded: the signature names the
    # agency only, never a title that may not be theirs.
    advisor = {"name": advisor_display_name(adv.first_name, adv.last_name, adv.name), "email": adv.email,
               "title": adv.title or None} if adv else \
        {"name": f"L'équipe de l'{agency['name']}", "email": None, "title": "Service clients"}
    ctx: dict[str, Any] = {
        "case": {"id": case.id, "due_date": case.due_date, "window_end": case.window_end, "state": case.state},
        "client": _client(client), "advisor": advisor, "agency": agency,
        "contracts": [{"id": k.id, "product": k.product, "family": k.family, "effective_date": k.effective_date}
                      for k in contracts],
        "contracts_phrase": contracts_phrase([k.product for k in contracts]),
        "payload": payload,
        "mail_from": sender(agency, advisor["name"] if adv else None),
        "unsubscribe_mailto": f"mailto:{agency['email']}?subject=STOP" if agency.get("email") else "",
        "unsubscribe_url": _optout_url(client.id, case.id) if kind in MARKETING_KINDS else "",
    }
    if kind in APPOINTMENT_KINDS:
        ctx["appointment"] = _appointment(payload, client.postal_code)
    if kind == "documents_request":
        ctx["missing"] = _missing_groups(payload.get("missing") or [], ctx["contracts"])
        ctx["missing_count"] = sum(len(g["labels"]) for g in ctx["missing"])
    return ctx


def _missing_groups(missing: list[dict[str, Any]], contracts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from notifications.fr import date_long

    by_id = {k["id"]: k for k in contracts}
    groups: dict[str, dict[str, Any]] = {}
    for item in missing:
        key = item.get("contract_id") or item.get("product") or ""
        if key not in groups:
            k = by_id.get(item.get("contract_id"))
            product = item.get("product") or (k["product"] if k else "")
            title = f"Contrat {product}".strip()
            if k:
                title += f" (effet au {date_long(k['effective_date'])})"
            groups[key] = {"title": title, "labels": []}
        label = item.get("label") or item.get("code") or ""
        if label and label not in groups[key]["labels"]:
            groups[key]["labels"].append(label)
    return list(groups.values())


def _digest_extras(kind: str, ctx: dict[str, Any]) -> dict[str, Any]:
    from notifications.fr import as_date

    cases = ctx.setdefault("cases", []) if kind in ("advisor_digest", "manager_digest") else []
    if kind == "advisor_digest":  # the day's appointments and the missed ones (flows/reminders.py)
        ctx["appointments_today"] = [{"day": None, "client_time": None, **a}
                                     for a in ctx.get("appointments_today") or []]
        ctx.setdefault("appointments_missed", [])
    ctx["late_count"] = sum(1 for c in cases if c.get("late"))
    if kind == "manager_digest":
        ctx.setdefault("by_advisor", [])
        ctx["overdue_total"] = sum(int(a.get("overdue") or 0) for a in ctx["by_advisor"]) or ctx["late_count"]
    if kind == "action_reminder":
        as_of = as_date(ctx.get("as_of")) or date.max
        ctx["actions"] = [dict(a, overdue=(as_date(a.get("due_date")) or date.max) < as_of)
                          for a in ctx.get("actions") or []]
    return ctx


def _appointment(payload: dict[str, Any], postal_code: str | None) -> dict[str, Any]:
    """What an appointment message announces, in the client's time zone."""
    from notifications import fr
    from states.calendar import client_timezone

    tz = client_timezone(postal_code)
    at = fr.local_datetime(payload.get("at"), tz)
    channel = payload.get("channel") or "phone"
    return {
        "when": fr.datetime_long(at, tz), "date": fr.date_long(at.date()) if at else "",
        "time": fr.time_short(at, tz), "channel": channel,
        "channel_label": fr.APPOINTMENT_CHANNELS.get(channel, channel),
        "moved": bool(payload.get("update")),  # ("update" would read as dict.update in Jinja)
        "previous_when": fr.datetime_long(payload.get("previous_at"), tz) if payload.get("previous_at") else "",
        "timezone": tz.key,
    }


def _optout_url(client_id: str, case_id: int) -> str:
    from notifications import optout_links

    return optout_links.url(client_id, case_id, "email")
