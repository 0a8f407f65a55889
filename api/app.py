"""The FastAPI application: `create_app()` wires the routers, the error shape and sessions.

    uvicorn --factory api.app:create_app       (what `m3 serve` runs)

The engine and the clock are the app's state, so tests hand in their own (a migrated test
database, a fixed time) and the benchmark its temporary database.
"""
from __future__ import annotations

import gc
import os
from datetime import timedelta
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from api import errors, pages, sessions
from api.body_limit import BodyLimit
from api.security_headers import SecurityHeaders
from api.deps import Clock, system_clock
from api.routes import cases, compliance, events, health, me, reassign, records, stats
from api import simulated
from api.routes import appointments
from api.routes import notes
from api.routes import bilan
from api import openapi as openapi_doc

DESCRIPTION = """API du suivi M+3 : dossiers, événements, travail sur le dossier, conformité, statistiques.

* Authentification : `Authorization: Bearer m3_…` (jeton donné une seule fois par `m3 user add`).
* Chaque écriture sur un dossier exige `If-Match` avec l'ETag lu (`"3"`) ; sans lui : 428 ;
  périmé : 409 avec `current_version`.
* Toutes les erreurs sont des `application/problem+json` (RFC 9457) avec un `code` stable.
* Notes, sinistres et questions : **aucune donnée de santé (RGPD art. 9)** dans les textes libres.
"""


# Threads running the sync routes (anyio's default is 40). Each request's database work holds
# one. With more threads than the process can feed (one GIL, one SQLite writer), they fight
# the event loop and each other for the GIL and the wait becomes unfair: under 32 concurrent
# writers (bench/bench_api.py) p99 on PostgreSQL went ~175 ms (24 threads), ~160 (12), ~135 (8),
# ~120 (6) at the same throughput. 8 leaves room for a slow export or statistics query.
THREADS = 8
# Routes that take a file (the CRM export), with their own larger body limit.
UPLOAD_PREFIXES = ("/manager/import", "/api/imports")


@asynccontextmanager
async def _lifespan(app: FastAPI):
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    # Everything alive once the app is built (modules, routes, schemas: ~125k objects) moves out
    # of the collector's reach: a full collection otherwise walks them all with the GIL held,
    # ~65 ms during which no request moves, a few times per 10 s under load.
    gc.collect()
    gc.freeze()
    yield


def create_app(engine: Engine | None = None, clock: Clock | None = None) -> FastAPI:
    if engine is None:
        from store.db import get_engine
        engine = get_engine()
    from config import get_settings

    # FastAPIOffline: /docs and /redoc serve Swagger UI's and ReDoc's files from the package
    # itself (under /static-offline-docs), never from a CDN: the documentation works offline.
    from fastapi_offline import FastAPIOffline

    app = FastAPIOffline(title="Suivi M+3", version="1.0", description=DESCRIPTION, docs_url="/docs",
                         openapi_url="/openapi.json", lifespan=_lifespan)
    app.state.engine = engine
    app.state.clock = clock or system_clock
    errors.install(app)
    settings = get_settings()
    # Sessions (docs/pages.md): the secret from M3_SESSION_SECRET or the data folder (the
    # development value is refused unless M3_DEV=1); the cookie is re-signed on every answer, so
    # its max_age slides like the idle check in api/sessions.py (which reads the app's clock).
    app.state.session_idle_hours = settings.session_idle_hours
    # A simulated date (M3_TODAY, api/simulated.py): the clock, unless a test hands in its own,
    # and the X-M3-Simulated-Date header on every answer.
    if settings.today and clock is None:
        try:
            app.state.clock = simulated.clock(settings.today)
        except ValueError:
            raise ValueError(f"M3_TODAY illisible : {settings.today!r} (AAAA-MM-JJ ou date et heure ISO)") from None
    simulated.install(app, settings.today)
    app.state.appointment_tolerance = timedelta(minutes=settings.appointment_tolerance_minutes)
    # sessions.SessionCookie: Starlette's SessionMiddleware with the cookie's contents checked.
    app.add_middleware(sessions.SessionCookie, secret_key=sessions.session_secret(settings), session_cookie="m3_session",
                       same_site="lax", https_only=settings.session_https_only,
                       max_age=max(60, int(settings.session_idle_hours * 3600)))
    # Outermost, so an oversized body is refused before sessions, routing or authentication.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.upload_max_mb << 20,
                       upload_prefixes=UPLOAD_PREFIXES)
    # Outside even the body limit, so its 413 carries the headers too.
    app.add_middleware(SecurityHeaders, https=getattr(settings, "session_https_only", False))
    # operationIds: each route names its own (api/openapi.py `op`); the fallback is camelCase.
    api = APIRouter(prefix="/api", generate_unique_id_function=openapi_doc.camel_case_id)
    for module in (health, me, cases, events, records, reassign, compliance, stats, appointments, notes, bilan):
        api.include_router(module.router)
    app.include_router(api)
    openapi_doc.install(app)  # the Problem schema, the roles in each description (api/openapi.py)
    pages.mount(app)  # the pages (api/pages/), after the API so /api keeps its JSON errors
    if os.environ.get("M3_BENCH_BARE") == "1":  # the benchmark's baseline only: never in production
        from bench.bare_api import router as bare
        app.include_router(bare, prefix="/api")
    return app
