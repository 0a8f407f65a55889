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

The secret comes from `M3_SESSION_SECRET` (several machines share it), else from
`<data_dir>/session-secret`, generated once. Two processes starting together agree on it: each
writes a candidate to a temporary file and hard-links it to the final name; `os.link` fails if
the name exists, and the loser reads the winner's.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path

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
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(20):
        existing = _read(path)
        if existing:
            return existing
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # atomic: exactly one process creates the name
            except FileExistsError:
                pass  # another process won: read its secret
        finally:
            tmp.unlink(missing_ok=True)
    existing = _read(path)
    if not existing:
        raise SessionSecretError(f"secret de session illisible : {path}")
    return existing


def _read(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return text or None


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
    try:
        uid = int(session["uid"])
    except (TypeError, ValueError):
        session.clear()
        return None
    user = auth.session_user(request.app.state.engine, uid, session.get("fp"))
    if user is None:
        session.clear()
        return None
    session["seen"] = int(now.timestamp())
    return user
