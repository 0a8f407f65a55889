"""The pages: server-rendered HTML (Jinja2 + htmx) beside the JSON API, one router per screen.

`mount(app)` serves /static, includes every screen of SCREENS, and makes errors on page URLs
render as HTML (the JSON API under /api keeps its problem+json). To add a screen: a module here
with a `router`, its templates in api/templates/<screen>/, and its name in SCREENS.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import DOMAIN_ERRORS, Problem, domain_problem
from api.pages import account, case, dossiers, login
from api.pages.common import STATIC_DIR, CsrfFailed, LoginRequired, is_htmx, login_redirect, render

SCREENS = (login, account, dossiers, case)
from api.pages import compliance, manager, optout  # noqa: E402  (issue 8: manager, compliance, opt-outs)
SCREENS = SCREENS + (manager, compliance, optout)

# Paths that stay JSON whatever happens (the API, its documentation).
_NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json", "/static/")


def is_page(request: Request) -> bool:
    path = request.url.path
    return not any(path == p.rstrip("/") or path.startswith(p) for p in _NOT_PAGES)


def error_page(request: Request, status: int, title: str, detail: str, code: str):
    ctx = {"problem": {"status": status, "title": title, "detail": detail, "code": code}}
    return render(request, "errors/page.html", ctx, block="notice" if is_htmx(request) else None,
                  status_code=status, headers={"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"}
                  if is_htmx(request) else None)


def mount(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for screen in SCREENS:
        app.include_router(screen.router)
    json_handlers = dict(app.exception_handlers)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        return login_redirect(request)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed):
        return error_page(request, 403, "Formulaire expiré",
                          "Le formulaire n'est plus valable (jeton CSRF absent ou périmé) : rechargez la page "
                          "et recommencez.", "csrf")

    def _html_or_json(cls):
        json_handler = json_handlers.get(cls)

        async def handler(request: Request, exc: Exception):
            if not is_page(request):
                return await json_handler(request, exc)
            if isinstance(exc, Problem):
                p = exc
            elif isinstance(exc, DOMAIN_ERRORS):
                p = domain_problem(exc)
            elif isinstance(exc, RequestValidationError):
                p = Problem(404 if request.method == "GET" else 422, "invalid_request",
                            "adresse ou formulaire invalide")
            elif isinstance(exc, StarletteHTTPException):
                p = Problem(exc.status_code, "not_found" if exc.status_code == 404 else f"http_{exc.status_code}",
                            "page introuvable" if exc.status_code == 404 else str(exc.detail))
            else:  # pragma: no cover - the handlers registered above are exactly these
                raise exc
            return error_page(request, p.status, p.title, p.detail, p.code)

        return handler

    for cls in (Problem, RequestValidationError, StarletteHTTPException, *DOMAIN_ERRORS):
        if cls in json_handlers:
            app.add_exception_handler(cls, _html_or_json(cls))
