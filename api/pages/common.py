"""What every screen shares: templates, the logged-in user, CSRF, htmx, flash messages, French formats.

A screen is a router module in api/pages/ with its templates in api/templates/<screen>/. Its
routes take `PageUser` (redirects to the login page when there is no valid session) and, for a
POST, call `await form_of(request)`, which checks the CSRF token. `render()` returns the full
page, or only `block` when htmx asked (HX-Request): a page and its partial are one template
(jinja2-fragments), so they cannot drift apart.
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api import sessions
from api.errors import Problem
from api.roles import Role, User
from states.calendar import PARIS

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
LOGIN_URL = "/connexion"

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_DAYS_SHORT = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")
ROLE_LABELS = {Role.ADVISOR: "Chargé(e) de clientèle", Role.MANAGER: "Responsable d'agence",
               Role.COMPLIANCE: "Conformité", Role.ADMIN: "Administrateur"}


# ---------------------------------------------------------------- French formats (template filters)
def _local(value: datetime | str | None, tz=PARIS) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(tz)


def fr_date(value: date | datetime | str | None, weekday: bool = False) -> str:
    """15/04/2026 (mer. 15/04/2026 with weekday)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    text = f"{value:%d/%m/%Y}"
    return f"{_DAYS_SHORT[value.weekday()]} {text}" if weekday else text


def fr_datetime(value: datetime | str | None, tz=PARIS) -> str:
    """15/04/2026 10:30, in the agency's time (or `tz`)."""
    local = _local(value, tz)
    return f"{local:%d/%m/%Y %H:%M}" if local else "—"


def fr_slot(value: datetime | None) -> str:
    """'lundi 23 novembre à 10:00' (in the value's own time zone: the client's)."""
    if value is None:
        return "aucun créneau dans les 4 mois"
    return f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} à {value:%H:%M}"


def fr_time(value: datetime | str | None, tz=PARIS) -> str:
    local = _local(value, tz)
    return f"{local:%H:%M}" if local else "—"


def fr_money(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):,.0f} €".replace(",", "\u202f")


_MD = None


def markdown(text: str | None) -> Markup:
    """Markdown (the call script's template) as HTML; raw HTML in it is escaped, never rendered."""
    global _MD
    if _MD is None:
        from markdown_it import MarkdownIt
        _MD = MarkdownIt("commonmark", {"html": False})
    return Markup(_MD.render(text or ""))


# French E.164 numbers outside 08 (whose national format groups differently: "0 800 ..."):
# phonenumbers' national format is always "0X XX XX XX XX" (tests/unit/test_pages__fr_phone_fast_path.py).
_FR_MOBILE_OR_GEO = re.compile(r"\+33[1-79]\d{8}")


def fr_phone(value: str | None) -> str:
    """'+33612345678' -> '06 12 34 56 78' (French numbers); others in international format."""
    if not value:
        return "—"
    if _FR_MOBILE_OR_GEO.fullmatch(value):  # what phonenumbers answers for these, ~50x faster (lists of hundreds)
        return f"0{value[3]} {value[4:6]} {value[6:8]} {value[8:10]} {value[10:12]}"
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 33 else \
        phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def _env() -> jinja2.Environment:
    # auto_reload only with M3_DEV=1: otherwise every include (one per row of a list) stats its
    # file to see whether it changed, ~15 % of rendering "Mes dossiers" (docs/performance-pages.md).
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             auto_reload=os.environ.get("M3_DEV", "").lower() in ("1", "true", "yes", "on"))
    env.filters.update(fr_date=fr_date, fr_datetime=fr_datetime, fr_slot=fr_slot, fr_time=fr_time,
                       fr_money=fr_money, markdown=markdown, fr_phone=fr_phone)
    env.globals["timedelta_days"] = lambda n: timedelta(days=int(n))
    return env


def _context(request: Request) -> dict[str, Any]:
    """What every template may use: the user, the CSRF token, the simulated date, the flash messages."""
    session = request.scope.get("session")
    user = getattr(request.state, "user", None)
    return {
        "user": user,
        "role_label": ROLE_LABELS.get(user.role, "") if user else "",
        "csrf": sessions.csrf_token(session) if session is not None else "",
        "simulated_today": simulated_today(request),
        "flashes": pop_flashes(request),
        "home": home_for(user) if user else LOGIN_URL,
        "nav": [item for item in NAV if user and user.role in item["roles"]],
        "agency_names": agency_names(request),
        "path": request.url.path,
    }


def agency_names(request: Request) -> dict[str, str]:
    """Agency id -> name ("rouviere" -> "Rouvière"), read once per app (agencies rarely change)."""
    names = getattr(request.app.state, "agency_names", None)
    if names is None:
        from sqlalchemy import select

        from store.tables import Agency

        t = Agency.__table__
        with request.app.state.engine.connect() as conn:
            names = dict(conn.execute(select(t.c.id, t.c.name)).all())
        request.app.state.agency_names = names
    return names


# The top menu: each screen appends its entry (label, href, the roles that see it).
NAV: list[dict[str, Any]] = [
    {"label": "Mes dossiers", "href": "/dossiers", "roles": frozenset(Role)},
]


templates = Jinja2Blocks(env=_env(), context_processors=[_context])


def simulated_today(request: Request) -> date | None:
    """The date the server is told to run on (M3_TODAY), shown as a banner on every page."""
    from config import get_settings

    value = getattr(request.app.state, "simulated_today", None)
    if value is None:
        value = getattr(get_settings(), "today", None)
    if isinstance(value, str):  # "2026-11-21" or a full ISO datetime
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.date()
    return value


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(request: Request, template: str, context: dict[str, Any], block: str | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The full page, or only `block` for an htmx request."""
    if block and is_htmx(request):
        return templates.TemplateResponse(request, template, context, status_code=status_code,
                                          headers=headers, block_name=block)
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=headers)


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a POST, the browser GETs the result (no re-POST on reload)."""
    return RedirectResponse(url, status_code=303)


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A message shown once, on the next page rendered (kept in the session cookie)."""
    request.session.setdefault("flash", []).append([kind, message[:300]])


def pop_flashes(request: Request) -> list[list[str]]:
    session = request.scope.get("session")
    if not session or "flash" not in session:
        return []
    return session.pop("flash")


def home_for(user: User) -> str:
    """Where a user lands after logging in (the manager and compliance screens may change theirs)."""
    return HOME_BY_ROLE.get(user.role, "/dossiers")


HOME_BY_ROLE: dict[Role, str] = {}  # a screen registers its role's home here; default "Mes dossiers"


# ---------------------------------------------------------------- the user, CSRF
class LoginRequired(Exception):
    """No valid session: the page handler sends the browser to the login page."""


class CsrfFailed(Exception):
    """A page POST without the session's CSRF token."""


async def page_user(request: Request) -> User:
    user = await run_in_threadpool(sessions.user_of, request, request.app.state.clock())
    if user is None:
        raise LoginRequired()
    request.state.user = user
    return user


PageUser = Annotated[User, Depends(page_user)]


async def form_of(request: Request) -> FormData:
    """The POSTed form, once its CSRF token (hidden field, or htmx's X-CSRF-Token header) matches."""
    form = await request.form()
    sent = form.get("csrf_token") or request.headers.get("X-CSRF-Token")
    if not sessions.csrf_ok(request.session, sent if isinstance(sent, str) else None):
        raise CsrfFailed()
    return form


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = request.headers.get("HX-Current-URL") or request.url.path
        if "://" in target:  # HX-Current-URL is absolute: keep the path only
            target = "/" + target.split("://", 1)[1].split("/", 1)[-1]
    url = LOGIN_URL if target in ("/", LOGIN_URL) else f"{LOGIN_URL}?suite={quote(target, safe='/')}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return redirect(url)


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after login; anything else (another site, //host) is dropped."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def problem_context(p: Problem) -> dict[str, Any]:
    """The problem as the templates show it: the same fields as the JSON document."""
    return {"status": p.status, "code": p.code, "title": p.title, "detail": p.detail, **p.extra}


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
