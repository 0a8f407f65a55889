"""The call script of a case: the agency's template (data, not code), rendered in Jinja2's sandbox.

Each agency has one Markdown template, `<scripts_dir>/<agency id>.md.j2` (default
`$M3_DATA_DIR/scripts/`), created from the packaged default (`templates/call_script.md.j2`,
the seeds' two openings and the bilan's trigger phrase) the first time a case of that agency
asks for its script. The agency edits that file; nothing else changes.

What the template cannot change: the presentation that L221-16 (Code de la consommation)
requires at the start of a call that may lead to a contract (who calls, for which agency, and
that the call is also a review of the client's cover). This module writes it and puts it
before whatever the template renders, so no edit can remove or reword it.

A template that does not render (syntax error, unknown variable, sandbox violation, output too
long) never fails the request: the default renders instead and the result carries the error,
so the page shows it to whoever edits the file. The template is recompiled when the file
changes (its size and modification time are the cache key).
"""
from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Connection, select

from notifications import fr
from notifications.context import TEMPLATES, agency_info
from states.notes import HEALTH_REMINDER, TOPIC_KIND_LABELS, TOPIC_STATUS_LABELS
from states.people import addressed_name, advisor_display_name, civility_word, client_display_name
from states.records import TopicKind, TopicStatus
from store.snapshot import ADVISOR, CASE, CASE_CONTRACT, CLIENT, CONTRACT, TOPIC

log = logging.getLogger("m3.call_script")

DEFAULT_TEMPLATE = TEMPLATES / "call_script.md.j2"
MAX_CHARS = 20_000  # a rendered script longer than this is a template bug (a runaway loop)
MAX_RANGE = 1_000  # range() in a template: far more than any script needs
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_AGENCY_FILE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
L221_16 = "Présentation (obligatoire, art. L221-16 du Code de la consommation)"


@dataclass(frozen=True)
class CallScript:
    text: str  # what the advisor reads: the fixed presentation, then the template's text
    fixed: str  # the presentation alone
    source: str  # "agency" (the agency's file) or "default" (the packaged default)
    template: str | None  # the agency's file, when there is one
    error: str | None  # why the agency's file was not used (French), else None

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "fixed": self.fixed, "source": self.source, "template": self.template,
                "error": self.error}


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def lower_first(text: str) -> str:
    """'Auto' -> 'auto', 'Multirisque habitation' -> 'multirisque habitation'; an acronym stays
    ('RC Pro', 'TNS')."""
    if len(text) >= 2 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " et " + parts[-1]


def contracts_phrase(products: list[str]) -> str:
    """'votre contrat auto et votre contrat habitation'; a product held twice: 'vos contrats auto'."""
    counts: dict[str, int] = {}
    for p in products:
        if p and p.strip():
            counts[p.strip()] = counts.get(p.strip(), 0) + 1
    if not counts:
        return "votre contrat"
    return _join([f"{'vos contrats' if n > 1 else 'votre contrat'} {lower_first(p)}" for p, n in counts.items()])


def insured_phrase(products: list[str]) -> str:
    """'votre auto et votre multirisque habitation' (after "votre assureur pour")."""
    names = list(dict.fromkeys(p.strip() for p in products if p and p.strip()))
    return _join([f"votre {lower_first(p)}" for p in names]) or "votre contrat"


# ---------------------------------------------------------------- what the template sees
def script_data(conn: Connection, case_id: int) -> dict[str, Any] | None:
    """The template's variables for case `case_id` (None when it does not exist): three queries."""
    row = conn.execute(
        select(CASE.c.id, CASE.c.agency_id, CASE.c.assigned_advisor_id, CLIENT.c.kind, CLIENT.c.civility,
               CLIENT.c.first_name, CLIENT.c.last_name, CLIENT.c.company_name, CLIENT.c.insurance_contact,
               CLIENT.c.id.label("client_id"))
        .join(CLIENT, CLIENT.c.id == CASE.c.client_id).where(CASE.c.id == case_id)).first()
    if row is None:
        return None
    contracts = conn.execute(
        select(CONTRACT.c.product, CONTRACT.c.family, CONTRACT.c.effective_date, CONTRACT.c.seller_id)
        .join(CASE_CONTRACT, CASE_CONTRACT.c.contract_id == CONTRACT.c.id)
        .where(CASE_CONTRACT.c.case_id == case_id).order_by(CONTRACT.c.effective_date, CONTRACT.c.id)).all()
    ids = {row.assigned_advisor_id, *(k.seller_id for k in contracts)} - {None}
    advisors = {a.id: a for a in conn.execute(
        select(ADVISOR.c.id, ADVISOR.c.name, ADVISOR.c.first_name, ADVISOR.c.last_name, ADVISOR.c.title)
        .where(ADVISOR.c.id.in_(ids)))} if ids else {}
    topics = conn.execute(select(TOPIC).where(TOPIC.c.case_id == case_id)
                          .order_by(TOPIC.c.occurred_on, TOPIC.c.id)).all()
    return build_data(row, contracts, advisors, topics)


def _first_name(adv) -> str | None:
    if adv is None:
        return None
    if adv.first_name:
        return adv.first_name
    from states.people import split_full_name

    return split_full_name(adv.name or "")[0]


def build_data(row, contracts, advisors: dict, topics) -> dict[str, Any]:
    """The variables from plain rows (see script_data), so tests can build them by hand."""
    adv = advisors.get(row.assigned_advisor_id)
    person = addressed_name(row.civility, row.first_name, row.last_name)
    if row.kind == "entreprise" and row.insurance_contact:
        person = row.insurance_contact.split(",")[0].strip()  # "Paul Martin, DAF" -> "Paul Martin"
    client = {"id": row.client_id, "kind": row.kind, "civility": row.civility, "civility_word": civility_word(row.civility),
              "first_name": row.first_name, "last_name": row.last_name, "company_name": row.company_name,
              "name": client_display_name(row.kind, row.first_name, row.last_name, row.company_name, row.client_id),
              "addressed": person}
    advisor = None
    if adv is not None:
        advisor = {"id": adv.id, "name": advisor_display_name(adv.first_name, adv.last_name, adv.name),
                   "first_name": _first_name(adv), "last_name": adv.last_name, "title": adv.title}
    products = [k.product for k in contracts]
    groups: dict[Any, dict[str, Any]] = {}
    listed = []
    for k in contracts:
        sold_by_advisor = adv is not None and k.seller_id == adv.id
        seller = advisors.get(k.seller_id)
        first = None if sold_by_advisor else _first_name(seller)
        key = "advisor" if sold_by_advisor else (k.seller_id if first else None)
        group = groups.setdefault(key, {"first_name": first, "is_advisor": sold_by_advisor, "known": bool(first)
                                        or sold_by_advisor, "products": []})
        group["products"].append(k.product)
        listed.append({"product": k.product, "family": k.family, "effective_date": k.effective_date,
                       "seller_first_name": first, "sold_by_advisor": sold_by_advisor})
    sellers = [{k: v for k, v in g.items() if k != "products"} | {"contracts_phrase": contracts_phrase(g["products"])}
               for g in groups.values()]
    return {
        "client": client, "advisor": advisor, "agency": agency_info(row.agency_id),
        "contracts": listed, "contracts_phrase": contracts_phrase(products), "insured_phrase": insured_phrase(products),
        "sellers": sellers,
        "topics": [{"id": t.id, "kind": t.kind, "kind_label": TOPIC_KIND_LABELS.get(TopicKind(t.kind), t.kind),
                    "occurred_on": t.occurred_on, "summary": t.summary, "status": t.status,
                    "status_label": TOPIC_STATUS_LABELS.get(TopicStatus(t.status), t.status), "answer": t.answer}
                   for t in topics],
    }


def presentation(data: dict[str, Any]) -> str:
    """The L221-16 statement, written by code: who calls, for which agency, and that the call is
    also a review of the client's cover (its commercial purpose)."""
    agency, advisor, client = data["agency"], data["advisor"], data["client"]
    where = f"à l'{agency['name']}" if agency["name"].lower().startswith("agence") else f"chez {agency['name']}"
    network = f" ({agency['network']})" if agency.get("network") else ""
    if advisor:
        title = f", {lower_first(advisor['title'])}" if advisor.get("title") else ""
        who = f"je suis {advisor['name']}{title} {where}{network}"
    else:
        who = f"je vous appelle de la part de l'{agency['name']}{network}" if where.startswith("à l'") else \
            f"je vous appelle de la part de {agency['name']}{network}"
    hello = f"Bonjour {client['addressed']}" if client.get("addressed") else "Bonjour"
    return (f"{hello}, {who}. Je vous appelle pour la mise à jour de votre dossier ; cet appel est aussi "
            "l'occasion de faire le point sur l'ensemble de vos assurances, chez nous comme ailleurs, "
            "et de vous proposer si besoin des garanties mieux adaptées à votre situation.")


# ---------------------------------------------------------------- rendering
def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise OverflowError(f"range() limité à {MAX_RANGE} éléments dans un script")
    return r


_env: SandboxedEnvironment | None = None
_cache: dict[tuple[str, int, int], Any] = {}
_lock = threading.Lock()


def environment() -> SandboxedEnvironment:
    global _env
    if _env is None:
        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        env.filters.update(date_short=fr.date_short, date_long=fr.date_long, upper_first=upper_first,
                           lower_first=lower_first)
        env.globals["range"] = _range
        _env = env
    return _env


def _compiled(path: Path):
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _lock:
        template = _cache.get(key)
    if template is None:
        template = environment().from_string(path.read_text("utf-8"))
        with _lock:
            if len(_cache) > 64:
                _cache.clear()
            _cache[key] = template
    return template


def _render(path: Path, data: dict[str, Any]) -> str:
    out, size = [], 0
    for chunk in _compiled(path).generate(data):
        size += len(chunk)
        if size > MAX_CHARS:
            raise OverflowError(f"texte trop long (plus de {MAX_CHARS} caractères)")
        out.append(chunk)
    return _BLANKS.sub("\n\n", "".join(out)).strip()  # at most one blank line in a row


def agency_template(agency_id: str, scripts_dir: Path) -> tuple[Path | None, str | None]:
    """The agency's template file, created from the default when missing: (path, problem)."""
    if not _AGENCY_FILE.match(agency_id or ""):
        return None, f"identifiant d'agence inutilisable comme nom de fichier : {agency_id!r}"
    path = scripts_dir / f"{agency_id}.md.j2"
    if path.is_file():
        return path, None
    try:
        scripts_dir.mkdir(parents=True, exist_ok=True)
        tmp = scripts_dir / f".{agency_id}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_bytes(DEFAULT_TEMPLATE.read_bytes())
        try:
            os.link(tmp, path)  # never replaces a file another process (or the agency) wrote meanwhile
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        return None, f"modèle de l'agence non créé dans {scripts_dir} : {exc.strerror or exc}"
    return path, None


def _describe(exc: BaseException) -> str:
    line = getattr(exc, "lineno", None)
    where = f" (ligne {line})" if line else ""
    kind = {"TemplateSyntaxError": "erreur de syntaxe", "UndefinedError": "variable inconnue",
            "SecurityError": "opération interdite dans un script"}.get(type(exc).__name__, type(exc).__name__)
    return f"{kind}{where} : {exc}"


def render(data: dict[str, Any], agency_id: str, scripts_dir: Path | None = None) -> CallScript:
    """The case's script from `data` (script_data), with the agency's template or the default."""
    if scripts_dir is None:
        from config import get_settings

        scripts_dir = get_settings().call_scripts_dir
    fixed = presentation(data)
    path, error = agency_template(agency_id, Path(scripts_dir))
    body, source = None, "default"
    if path is not None:
        try:
            body, source = _render(path, data), "agency"
        except Exception as exc:  # noqa: BLE001 - whatever the agency wrote, the call goes on
            error = f"modèle {path.name} inutilisable, script par défaut affiché — {_describe(exc)}"
            log.warning("call script of agency %s: %s", agency_id, type(exc).__name__)
    if body is None:
        try:
            body = _render(DEFAULT_TEMPLATE, data)
        except Exception as exc:  # the packaged default is tested: this is a bug, never a 500
            log.exception("default call script failed")
            body, error = "", f"script par défaut inutilisable — {_describe(exc)}"
    text = f"**{L221_16}**\n\n> {fixed}\n\n{body}\n".rstrip() + "\n"
    return CallScript(text=text, fixed=fixed, source=source, template=str(path) if path else None, error=error)


def for_case(conn: Connection, case_id: int, scripts_dir: Path | None = None) -> dict[str, Any] | None:
    """The script and what the page shows beside it (claims and questions, the RGPD reminder)."""
    data = script_data(conn, case_id)
    return None if data is None else for_data(data, scripts_dir)


def for_data(data: dict[str, Any], scripts_dir: Path | None = None) -> dict[str, Any]:
    """for_case from the template's variables (script_data's, or build_data's from rows already read)."""
    script = render(data, data["agency"]["id"], scripts_dir)
    return dict(script.as_json(), topics=data["topics"], reminder=HEALTH_REMINDER)
