"""Typed dependencies: the engine, the clock, the current user, the expected version.

The cheap ones are `async def` on purpose: FastAPI runs a plain `def` dependency in the thread
pool, and a thread hop per dependency per request is measurable at the throughput we target.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Callable

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api import sessions
from api.errors import Problem
from api.roles import User

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_now(request: Request) -> datetime:
    """The time of the request, from the app's clock (tests move it at will)."""
    return request.app.state.clock()


_bearer = HTTPBearer(auto_error=False, description="Jeton `m3_…` donné par `m3 user add`")
_UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="suivi-m3"'}
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def current_user(request: Request,
                       credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    """The bearer token's user, or the session's (pages); 401 otherwise."""
    if credentials is not None:
        return await token_user(request, credentials.credentials)
    session = request.scope.get("session") or {}
    if session.get("uid"):
        # A cookie rides along with any request the browser sends: writes also need the CSRF
        # token the session handed out, in a header a cross-site form cannot set.
        if request.method in _UNSAFE and not sessions.csrf_ok(session, request.headers.get("X-CSRF-Token")):
            raise Problem(403, "csrf", "en-tête X-CSRF-Token manquant ou faux pour une session")
        # The same checks as the pages: idle expiry, credential unchanged, user active.
        user = await run_in_threadpool(sessions.user_of, request, request.app.state.clock())
        if user is not None:
            return user
    raise Problem(401, "unauthenticated", "authentification requise (Authorization: Bearer m3_…)",
                  headers=_UNAUTHENTICATED)


async def token_user(request: Request, token: str) -> User:
    """The token's user (api/credentials.py: shared rate limits, bounded argon2, revocation read
    from the database on every request): 401 invalid_token, or 429 too_many_attempts."""
    from api import credentials

    try:
        user = await credentials.gate(request.app).token_user(token, credentials.client_address(request))
    except credentials.Throttled as exc:
        raise too_many_attempts(exc) from None
    if user is None:
        raise Problem(401, "invalid_token", "jeton invalide, révoqué ou expiré", headers=_UNAUTHENTICATED)
    return user


def too_many_attempts(exc) -> Problem:
    return Problem(429, "too_many_attempts",
                   f"trop de tentatives d'authentification échouées : réessayez dans {exc.retry_after_s} s",
                   title="Trop de tentatives", headers={"Retry-After": str(exc.retry_after_s)},
                   retry_after_s=exc.retry_after_s)


_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


async def expected_version(if_match: Annotated[str | None, Header(
        alias="If-Match", description='Version lue (ETag du dossier), ex. `"3"`')] = None) -> int:
    """The version the caller read, from If-Match: 428 when missing, 412 when unreadable."""
    if if_match is None or not if_match.strip():
        raise Problem(428, "if_match_required",
                      "en-tête If-Match obligatoire : renvoyez l'ETag lu avec GET /api/cases/{id}")
    m = _ETAG.match(if_match)
    if m is None:
        raise Problem(412, "if_match_invalid", "If-Match illisible : attendu un ETag comme \"3\"")
    return int(m.group(1))


def etag(version: int) -> str:
    return f'"{version}"'


EngineDep = Annotated[Engine, Depends(get_engine)]
NowDep = Annotated[datetime, Depends(get_now)]
CurrentUser = Annotated[User, Depends(current_user)]
VersionDep = Annotated[int, Depends(expected_version)]


def local_today(now: datetime):
    """The agency's calendar day (Europe/Paris, states.calendar.PARIS) at `now`: what "late" is
    measured against."""
    from states.calendar import PARIS

    return now.astimezone(PARIS).date()
