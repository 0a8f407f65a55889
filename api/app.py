"""The FastAPI application: `create_app()` wires the routers, the error shape and sessions.

    uvicorn --factory api.app:create_app       (what `m3 serve` runs)

The engine and the clock are the app's state, so tests hand in their own (a migrated test
database, a fixed time) and the benchmark its temporary database.
"""
from __future__ import annotations

import os

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from api import errors
from api.deps import Clock, system_clock
from api.routes import cases, compliance, events, health, me, reassign, records, stats

DESCRIPTION = """API du suivi M+3 : dossiers, événements, travail sur le dossier, conformité, statistiques.

* Authentification : `Authorization: Bearer m3_…` (jeton donné une seule fois par `m3 user add`).
* Chaque écriture sur un dossier exige `If-Match` avec l'ETag lu (`"3"`) ; sans lui : 428 ;
  périmé : 409 avec `current_version`.
* Toutes les erreurs sont des `application/problem+json` (RFC 9457) avec un `code` stable.
"""


def create_app(engine: Engine | None = None, clock: Clock | None = None) -> FastAPI:
    if engine is None:
        from store.db import get_engine
        engine = get_engine()
    from config import get_settings

    app = FastAPI(title="Suivi M+3", version="1.0", description=DESCRIPTION, docs_url="/docs",
                  openapi_url="/openapi.json")
    app.state.engine = engine
    app.state.clock = clock or system_clock
    errors.install(app)
    app.add_middleware(SessionMiddleware, secret_key=get_settings().session_secret, session_cookie="m3_session",
                       same_site="strict", https_only=False, max_age=12 * 3600)
    api = APIRouter(prefix="/api")
    for module in (health, me, cases, events, records, reassign, compliance, stats):
        api.include_router(module.router)
    app.include_router(api)
    if os.environ.get("M3_BENCH_BARE") == "1":  # the benchmark's baseline only: never in production
        from bench.bare_api import router as bare
        app.include_router(bare, prefix="/api")
    return app
