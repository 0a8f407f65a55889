"""Login, logout and `/`: sessions over the same users and roles as the API.

Failed logins are rate-limited per username and per address (`limits`, in memory: per server
process), before the password is even checked, so a guesser gets nothing from a blocked try.
"""
from __future__ import annotations

import time

from fastapi import APIRouter, Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool

from api import auth, sessions
from api.pages.common import LOGIN_URL, form_of, home_for, redirect, render, safe_next

router = APIRouter(include_in_schema=False)


class LoginLimiter:
    """Failed logins per username and per address, in this process's memory."""

    def __init__(self, per_user: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._user, self._address = parse(per_user), parse(per_address)

    def blocked(self, username: str, address: str) -> bool:
        return not (self._limiter.test(self._user, "user", username.casefold())
                    and self._limiter.test(self._address, "address", address))

    def failed(self, username: str, address: str) -> None:
        self._limiter.hit(self._user, "user", username.casefold())
        self._limiter.hit(self._address, "address", address)

    def succeeded(self, username: str) -> None:
        self._limiter.clear(self._user, "user", username.casefold())

    def retry_minutes(self, username: str, address: str) -> int:
        waits = []
        for item, kind, key in ((self._user, "user", username.casefold()), (self._address, "address", address)):
            stats = self._limiter.get_window_stats(item, kind, key)
            if stats.remaining == 0:
                waits.append(stats.reset_time - time.time())
        return max(1, int(max(waits, default=60) // 60) + 1)


def _limiter(request: Request) -> LoginLimiter:
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        from config import get_settings

        s = get_settings()
        limiter = request.app.state.login_limiter = LoginLimiter(s.login_limit_user, s.login_limit_address)
    return limiter


@router.get("/")
async def home(request: Request):
    user = await run_in_threadpool(sessions.user_of, request, request.app.state.clock())
    return redirect(home_for(user) if user else LOGIN_URL)


@router.get(LOGIN_URL)
async def login_form(request: Request, suite: str | None = None):
    user = await run_in_threadpool(sessions.user_of, request, request.app.state.clock())
    if user is not None:
        return redirect(safe_next(suite) or home_for(user))
    return render(request, "login/page.html", {"suite": safe_next(suite) or "", "username": "", "error": None})


@router.post(LOGIN_URL)
async def login(request: Request):
    form = await form_of(request)
    username = str(form.get("username") or "").strip()[:100]
    password = str(form.get("password") or "")
    suite = safe_next(str(form.get("suite") or ""))
    address = request.client.host if request.client else "?"
    limiter = _limiter(request)
    ctx = {"suite": suite or "", "username": username}
    if limiter.blocked(username, address):
        minutes = limiter.retry_minutes(username, address)
        return render(request, "login/page.html", {**ctx, "error": (
            f"Trop de tentatives de connexion. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.")},
            status_code=429, headers={"Retry-After": str(minutes * 60)})
    now = request.app.state.clock()
    found = await run_in_threadpool(auth.authenticate, request.app.state.engine, username, password, now) \
        if username and password else None
    if found is None:
        limiter.failed(username, address)
        return render(request, "login/page.html", {**ctx, "error": "Identifiant ou mot de passe incorrect."},
                      status_code=401)
    user, password_hash = found
    limiter.succeeded(username)
    sessions.open_session(request.session, user.id, password_hash, now)  # a fresh session: new CSRF token
    return redirect(suite or home_for(user))


@router.post("/deconnexion")
async def logout(request: Request):
    await form_of(request)
    request.session.clear()
    request.session["flash"] = [["ok", "Vous êtes déconnecté(e)."]]
    return redirect(LOGIN_URL)
