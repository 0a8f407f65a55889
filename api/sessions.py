"""Page sessions: the secret that signs them, and what a session cookie holds.

The cookie is Starlette's signed session (itsdangerous): a forged or altered cookie fails the
signature and reads as empty, i.e. not logged in. It holds:

    uid   the user's id
    fp    a fingerprint of the credential the session was opened with (the password hash, or
          the token hash for `POST /api/session`): changing the password or revoking the user
          ends every other session at its next request
    csrf  the per-session token every page form (hidden field) and htmx request (header) sends
    seen  when the session last made a request (epoch seconds, from the app's clock): a
          session idle for more than `M3_SESSION_IDLE_HOURS` ends (sliding expiry)

Only this server can sign a cookie, but what it holds is still checked before any code reads it
(`SessionCookie`, `sanitize`): a cookie whose payload is not a JSON object reads as no session,
and a known key of the wrong type or size is dropped (a bad `uid`, `fp` or `seen` ends the
login), so a malformed session answers 401 on /api and the login page on the pages, never 500.

The secret comes from `M3_SESSION_SECRET` (several machines share it), else from
`<data_dir>/session-secret`, generated once. Two processes starting together agree on it: each
writes a candidate to a temporary file and hard-links it to the final name; `os.link` fails if
the name exists, and the loser reads the winner's.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import secrets
from datetime import datetime
from pathlib import Path

from itsdangerous import BadSignature
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from config import generated_secret
from config.settings import Settings

DEV_SECRET = "change-me-in-production"  # the built-in development value: refused unless M3_DEV=1
MIN_SECRET_LENGTH = 32
SECRET_FILE = "session-secret"


class SessionSecretError(RuntimeError):
    """The server must not start with this secret."""


def session_secret(settings: Settings) -> str:
    """The secret signing the session cookies; raises SessionSecretError when unsafe."""
    configured = settings.session_secret
    if configured is not None:
        if configured == DEV_SECRET and not settings.dev:
            raise SessionSecretError(
                "M3_SESSION_SECRET vaut la valeur de développement « change-me-in-production » : "
                "n'importe qui pourrait forger une session. Donnez un secret aléatoire "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), retirez la variable "
                "pour qu'il soit généré dans le dossier de données, ou lancez avec M3_DEV=1.")
        if len(configured) < MIN_SECRET_LENGTH and not settings.dev:
            raise SessionSecretError(
                f"M3_SESSION_SECRET est trop court ({len(configured)} caractères, "
                f"minimum {MIN_SECRET_LENGTH}).")
        return configured
    return _secret_file(Path(settings.data_dir) / SECRET_FILE)


def _secret_file(path: Path) -> str:
    secret = generated_secret.read_or_create(path)
    if not secret:
        raise SessionSecretError(f"secret de session illisible : {path}")
    return secret


def fingerprint(credential_hash: str | None) -> str:
    """A short digest of the stored credential hash (never the hash itself in the cookie)."""
    return hashlib.sha256((credential_hash or "").encode()).hexdigest()[:16]


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def open_session(session: dict, user_id: int, credential_hash: str | None, now: datetime) -> str:
    """Start a fresh session for this user (a new CSRF token; nothing of the old one is kept)."""
    csrf = new_csrf()
    session.clear()
    session.update({"uid": user_id, "fp": fingerprint(credential_hash), "csrf": csrf, "seen": int(now.timestamp())})
    return csrf


def idle_expired(session: dict, now: datetime, idle_hours: float) -> bool:
    seen = session.get("seen")
    if not isinstance(seen, (int, float)):
        return True
    return now.timestamp() - seen > idle_hours * 3600


def csrf_token(session: dict) -> str:
    """The session's CSRF token, created for an anonymous visitor too (the login form has one)."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = session["csrf"] = new_csrf()
    return token


def csrf_ok(session: dict, sent: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and sent and secrets.compare_digest(str(expected), str(sent)))


def user_of(request, now: datetime):
    """The user of the request's session, or None (no session, idle too long, credential changed,
    user revoked). Slides the idle expiry. Runs a query: call it from a thread (sync)."""
    from api import auth

    session = request.scope.get("session")
    if not session or not session.get("uid"):
        return None
    idle = getattr(request.app.state, "session_idle_hours", 10.0)
    if idle_expired(session, now, idle):
        session.clear()
        return None
    uid = session.get("uid")
    if type(uid) is not int or not 0 < uid <= MAX_USER_ID:  # SessionCookie drops these already
        session.clear()
        return None
    user = auth.session_user(request.app.state.engine, uid, session.get("fp"))
    if user is None:
        session.clear()
        return None
    session["seen"] = int(now.timestamp())
    return user


# ---------------------------------------------------------------- what a cookie may hold
MAX_USER_ID = 2**31 - 1  # app_user.id is an INTEGER on both databases
_LOGIN_KEYS = ("uid", "fp", "seen")
MAX_FLASHES = 20


def _login_ok(session: dict) -> bool:
    uid, fp, seen = session.get("uid"), session.get("fp"), session.get("seen")
    return (type(uid) is int and 0 < uid <= MAX_USER_ID
            and isinstance(fp, str) and len(fp) <= 64
            and type(seen) in (int, float) and math.isfinite(seen) and abs(seen) < 1e12)


def _flashes_ok(value) -> bool:
    return (isinstance(value, list) and len(value) <= MAX_FLASHES
            and all(isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) and len(x) <= 400 for x in f)
                    for f in value))


def sanitize(session: dict) -> None:
    """Drop, in place, what a session may not hold: a login (`uid`, `fp`, `seen`) with any part
    missing or of the wrong type or range goes whole; a CSRF token that is not a short string,
    and flash messages not shaped [[kind, text], ...], go too. Other keys are left alone."""
    if any(k in session for k in _LOGIN_KEYS) and not _login_ok(session):
        for k in _LOGIN_KEYS:
            session.pop(k, None)
    csrf = session.get("csrf")
    if "csrf" in session and not (isinstance(csrf, str) and 0 < len(csrf) <= 128):
        del session["csrf"]
    if "flash" in session and not _flashes_ok(session["flash"]):
        del session["flash"]


class SessionCookie(SessionMiddleware):
    """Starlette's signed-cookie sessions, with the contents checked (see the module docstring).

    Starlette trusts a well-signed payload; one that is not base64 JSON of an object would make
    it raise (a 500). Such a cookie is taken out of the request before Starlette reads it: the
    request has no session, and the answer clears the cookie."""

    def __init__(self, app: ASGIApp, **kwargs) -> None:
        super().__init__(_Sanitized(app), **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._readable(scope):
            others = self._other_cookies(scope)
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"cookie"]
                     + ([(b"cookie", others.encode("latin-1"))] if others else [])}
            send = _expire_cookie(send, self.session_cookie, self.path, self.security_flags)
        await super().__call__(scope, receive, send)

    def _readable(self, scope: Scope) -> bool:
        from starlette.requests import HTTPConnection

        raw = HTTPConnection(scope).cookies.get(self.session_cookie)
        if raw is None:
            return True
        try:
            data = self.signer.unsign(raw.encode("utf-8"), max_age=self.max_age)
        except BadSignature:
            return True  # Starlette reads it as an empty session itself
        except Exception:  # noqa: BLE001 - any undecodable cookie is no session
            return False
        try:
            return isinstance(json.loads(base64.b64decode(data)), dict)
        except (ValueError, binascii.Error, RecursionError, UnicodeDecodeError):
            return False

    def _other_cookies(self, scope: Scope) -> str:
        from starlette.requests import HTTPConnection

        return "; ".join(f"{k}={v}" for k, v in HTTPConnection(scope).cookies.items() if k != self.session_cookie)


def _expire_cookie(send: Send, name: str, path: str, flags: str) -> Send:
    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if not any(v.startswith(f"{name}=") for v in headers.getlist("set-cookie")):
                headers.append("Set-Cookie", f"{name}=null; path={path}; expires=Thu, 01 Jan 1970 00:00:00 GMT; {flags}")
        await send(message)
    return wrapped


class _Sanitized:
    """Inside SessionMiddleware: the loaded session is sanitized before the app reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session")
        if isinstance(session, dict):
            sanitize(session)
        await self.app(scope, receive, send)
