"""Who am I, and sessions for the pages (a signed cookie opened with a token)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api import auth, sessions
from api.deps import CurrentUser
from api.errors import Problem
from api.roles import PERMISSIONS
from api.schemas import MeOut, SessionIn

router = APIRouter(tags=["utilisateur"])


def _me(user) -> dict:
    return {"username": user.username, "role": user.role.value, "agency_id": user.agency_id,
            "advisor_id": user.advisor_id, "permissions": sorted(p for p in PERMISSIONS if user.can(p))}


@router.get("/me", response_model=MeOut, summary="L'utilisateur authentifié et ses droits")
async def me(user: CurrentUser) -> dict:
    return _me(user)


@router.post("/session", summary="Ouvrir une session (pages) avec un jeton",
             description="Pose un cookie de session signé ; les écritures par session exigent l'en-tête "
                         "X-CSRF-Token renvoyé ici.")
async def open_session(body: SessionIn, request: Request) -> dict:
    user = await run_in_threadpool(auth.verify, request.app.state.engine, body.token)
    if user is None:
        raise Problem(401, "invalid_token", "jeton invalide, révoqué ou expiré")
    token_hash = await run_in_threadpool(auth.token_hash_of, request.app.state.engine, user.id)
    csrf = sessions.open_session(request.session, user.id, token_hash, request.app.state.clock())
    return {**_me(user), "csrf_token": csrf}


@router.delete("/session", summary="Fermer la session", status_code=204)
async def close_session(request: Request) -> None:
    request.session.clear()
