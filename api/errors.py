"""One error shape everywhere: RFC 9457 problem details (application/problem+json).

`type` is a stable URN built from `code` (an English identifier clients can switch on);
`title` and `detail` are in French, for people. Extra members carry what the caller needs to
act: `allowed` for a refused event, `current_version` for a stale one, `unmet` for guards,
`errors` ([{field, message}]) for an invalid payload.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from states.errors import CallingRulesViolation, EventNotAllowed, GuardFailed, InvalidChange
from store.errors import CaseNotFound, VersionConflict
from store.unreachable import is_unreachable

log = logging.getLogger("m3.api")  # exception types and ids only: no personal data

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 2  # what a 503 database_unavailable asks the client to wait


class _ThrottledLog:
    """One line per outage rather than one per request: at most one line every `every_s`
    seconds, saying how many refusals it stands for."""

    def __init__(self, logger: logging.Logger, every_s: float = 5.0) -> None:
        self.logger, self.every_s = logger, every_s
        self._last, self._suppressed = 0.0, 0
        self._lock = threading.Lock()

    def warning(self, kind: str, method: str, route: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.every_s:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        self.logger.warning("database unavailable (%s) on %s %s: 503%s", kind, method, route,
                            f" (+{suppressed} refused since the last line)" if suppressed else "")


_OUTAGE_LOG = _ThrottledLog(log)

_TITLES = {
    400: "Requête invalide", 401: "Authentification requise", 403: "Accès refusé", 404: "Introuvable",
    405: "Méthode non autorisée", 409: "Conflit", 412: "Précondition non remplie", 415: "Type de contenu non pris en charge",
    422: "Requête non traitable", 428: "Précondition requise", 500: "Erreur interne", 503: "Service indisponible",
}
_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 415: "unsupported_media_type",
          422: "invalid_payload", 428: "precondition_required", 500: "internal_error", 503: "unavailable"}


class Problem(Exception):
    """Raise anywhere in the API to answer with a problem document."""

    def __init__(self, status: int, code: str, detail: str, title: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.title = title or _TITLES.get(status, "Erreur")
        self.headers, self.extra = headers or {}, extra


def problem_response(p: Problem, instance: str | None = None) -> JSONResponse:
    body = {"type": f"urn:suivi-m3:problem:{p.code}", "code": p.code, "title": p.title, "status": p.status,
            "detail": p.detail}
    if instance:
        body["instance"] = instance
    body.update(p.extra)
    return JSONResponse(body, status_code=p.status, headers=p.headers, media_type=PROBLEM_JSON)


def _loc(loc: tuple | list) -> str:
    """('body', 'changes', 'phone') -> 'changes.phone'; ('query', 'page') -> 'page'."""
    parts = [str(x) for x in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or "body"


def domain_problem(exc: Exception) -> Problem:
    """Map what the store and the domain refuse to a problem (also used per case by bulk routes)."""
    if isinstance(exc, CaseNotFound):
        return Problem(404, "case_not_found", f"dossier {exc.case_id} introuvable", case_id=exc.case_id)
    if isinstance(exc, VersionConflict):
        return Problem(409, "version_conflict",
                       f"le dossier {exc.case_id} est en version {exc.current}, pas {exc.expected} : rechargez-le",
                       case_id=exc.case_id, expected_version=exc.expected, current_version=exc.current,
                       headers={"ETag": f'"{exc.current}"'})
    if isinstance(exc, EventNotAllowed):
        return Problem(409, "event_not_allowed", str(exc), event=exc.event, state=exc.state, allowed=exc.allowed)
    if isinstance(exc, GuardFailed):
        return Problem(422, "guard_failed", str(exc), event=exc.event,
                       unmet=[{"code": u.code, "message": u.message} for u in exc.unmet])
    if isinstance(exc, CallingRulesViolation):
        return Problem(422, "calling_rules", str(exc), reasons=exc.reasons)
    if isinstance(exc, InvalidChange):
        return Problem(422, "invalid_change", str(exc),
                       errors=[{"field": k, "message": v} for k, v in exc.errors.items()])
    raise TypeError(type(exc).__name__)


DOMAIN_ERRORS = (CaseNotFound, VersionConflict, EventNotAllowed, GuardFailed, CallingRulesViolation, InvalidChange)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc, request.url.path)

    for cls in DOMAIN_ERRORS:
        @app.exception_handler(cls)
        async def _domain(request: Request, exc: Exception):
            return problem_response(domain_problem(exc), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        # Bounded: a body of 100,000 wrong items must not answer with 100,000 errors.
        from config import get_settings
        cap = get_settings().max_validation_errors
        raw = exc.errors()
        errors = [{"field": _loc(e.get("loc", ())), "message": e.get("msg", "invalide")} for e in raw[:cap]]
        fields = sorted({e["field"] for e in errors})
        extra = {"errors_omitted": len(raw) - cap} if len(raw) > cap else {}
        detail = f"données invalides : {', '.join(fields[:10])}" + (" …" if len(fields) > 10 or extra else "")
        return problem_response(Problem(422, "invalid_payload", detail, errors=errors, **extra), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        from api.body_limit import BodyTooLarge

        if isinstance(exc.__cause__, BodyTooLarge):
            # A body without a length cut off at the limit while FastAPI read it: FastAPI turns
            # any error of that read into "400 error parsing the body"; it is a 413.
            limit = exc.__cause__.args[0] if exc.__cause__.args else None
            return problem_response(Problem(413, "payload_too_large", "le corps de la requête dépasse "
                                            f"{limit if limit is not None else 'la limite de'} octets",
                                            title="Requête trop volumineuse", headers={"Connection": "close"},
                                            **({"limit_bytes": limit} if limit is not None else {})),
                                    request.url.path)
        code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        detail = detail or {404: "ressource introuvable", 405: "méthode non autorisée sur cette ressource"}.get(
            exc.status_code, _TITLES.get(exc.status_code, "erreur"))
        return problem_response(Problem(exc.status_code, code, detail, headers=dict(exc.headers or {})),
                                request.url.path)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(sa_exc.TimeoutError)
    # Raised by the driver itself, not wrapped by SQLAlchemy: SQLite's BEGIN IMMEDIATE runs in the
    # engine's "begin" event (store/db.py), so "database is locked" past the busy timeout arrives
    # as a bare sqlite3.OperationalError (it answered 500 before).
    @app.exception_handler(sqlite3.OperationalError)
    async def _database(request: Request, exc: Exception):
        # The database cannot be reached (down, restarting, locked past the busy timeout, pool
        # exhausted): the request never committed, so the client may send it again as is. One
        # line in the log (throttled under an outage), never a traceback per request.
        if is_unreachable(exc):
            _OUTAGE_LOG.warning(type(exc).__name__, request.method,
                                request.scope.get("route").path if request.scope.get("route") else "?")
            return problem_response(Problem(503, "database_unavailable",
                                            "base de données momentanément indisponible ; renvoyez la requête",
                                            headers={"Retry-After": str(RETRY_AFTER_S)}), request.url.path)
        return await _crash(request, exc)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        # Technical log: the exception type and the case id only, never a payload or a name.
        case_id = request.path_params.get("case_id") if hasattr(request, "path_params") else None
        log.error("unhandled %s on %s %s (case %s)", type(exc).__name__, request.method,
                  request.scope.get("route").path if request.scope.get("route") else "?", case_id)
        return problem_response(Problem(500, "internal_error", "erreur interne ; l'incident est journalisé"))
