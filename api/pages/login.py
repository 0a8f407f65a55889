"""Login, logout and `/`: sessions over the same users and roles as the API.

Failed logins are rate-limited per username and per address by api/credentials.py, the same
mechanism as the API's tokens: counted in the database, so shared by every server process, and
checked before the password is, so a guesser gets nothing from a blocked try. The password's
argon2 runs in the bounded argon2 slots, never in a route thread.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api import credentials, sessions
from api.pages.common import LOGIN_URL, form_of, home_for, redirect, render, safe_next

router = APIRouter(include_in_schema=False)


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
    ctx = {"suite": suite or "", "username": username}
    now = request.app.state.clock()
    try:
        found = await credentials.gate(request.app).login(username, password, credentials.client_address(request), now)
    except credentials.Throttled as exc:
        return render(request, "login/page.html", {**ctx, "error": too_many_attempts_text(exc)},
                      status_code=429, headers={"Retry-After": str(exc.retry_after_s)})
    if found is None:
        return render(request, "login/page.html", {**ctx, "error": "Identifiant ou mot de passe incorrect."},
                      status_code=401)
    user, password_hash = found
    sessions.open_session(request.session, user.id, password_hash, now)  # a fresh session: new CSRF token
    return redirect(suite or home_for(user))


@router.post("/deconnexion")
async def logout(request: Request):
    await form_of(request)
    request.session.clear()
    request.session["flash"] = [["ok", "Vous êtes déconnecté(e)."]]
    return redirect(LOGIN_URL)


def too_many_attempts_text(exc: credentials.Throttled) -> str:
    minutes = exc.minutes
    return f"Trop de tentatives de connexion. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
