"""Who am I, and sessions for the pages (a signed cookie opened with a token)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api import auth, sessions
from api.deps import CurrentUser, token_user
from api.openapi import AUTH, BODY, TOO_MANY, op
from api.roles import PERMISSIONS
from api.schemas import MeOut, SessionIn

router = APIRouter(tags=["utilisateur"])


def _me(user) -> dict:
    return {"username": user.username, "role": user.role.value, "agency_id": user.agency_id,
            "advisor_id": user.advisor_id, "permissions": sorted(p for p in PERMISSIONS if user.can(p))}


@router.get("/me", response_model=MeOut, summary="L'utilisateur authentifié et ses droits",
            description="Le nom, le rôle, l'agence, le chargé de clientèle lié et les droits (`permissions`, "
                        "ceux de api/roles.py) de l'utilisateur du jeton ou de la session.",
            **op("getMe", *AUTH, permission=None))
async def me(user: CurrentUser) -> dict:
    return _me(user)


@router.post("/session", summary="Ouvrir une session (pages) avec un jeton",
             description="Pose un cookie de session signé ; les écritures par session exigent l'en-tête "
                         "X-CSRF-Token renvoyé ici (`csrf_token`). La session prend fin après "
                         "M3_SESSION_IDLE_HOURS d'inactivité, ou quand le jeton est révoqué.",
             **op("openSession", "invalid_token", TOO_MANY, "database_unavailable", *BODY))
async def open_session(body: SessionIn, request: Request) -> dict:
    user = await token_user(request, body.token)  # the same limits and argon2 bound as the bearer token
    token_hash = await run_in_threadpool(auth.token_hash_of, request.app.state.engine, user.id)
    csrf = sessions.open_session(request.session, user.id, token_hash, request.app.state.clock())
    return {**_me(user), "csrf_token": csrf}


@router.delete("/session", summary="Fermer la session", status_code=204,
               description="Efface le cookie de session (sans effet sans session) ; le jeton reste valable.",
               **op("closeSession"))
async def close_session(request: Request) -> None:
    request.session.clear()
