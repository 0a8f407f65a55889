"""Liveness and readiness: the only routes without authentication."""
from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from sqlalchemy import text

from api.deps import EngineDep
from api.errors import Problem
from api.openapi import op
from store.db import alembic_config

router = APIRouter(tags=["santé"])


@router.get("/health", summary="Le processus répond",
            description="Vivacité : répond tant que le processus tourne, sans authentification et sans lire la "
                        "base (pour un superviseur ou un répartiteur de charge). Voir aussi GET /ready.",
            **op("getHealth"))
async def health() -> dict:
    return {"status": "ok"}


def _head(engine) -> str | None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    return ScriptDirectory.from_config(cfg).get_current_head()


@router.get("/ready", summary="La base répond et son schéma est à jour",
            description="Prêt à servir : la base répond et son schéma est à la dernière migration. Sinon 503 : "
                        "`database_unavailable` (base injoignable) ou `schema_outdated` (lancer `m3 db upgrade`).",
            **op("getReadiness", "database_unavailable", "schema_outdated"))
def ready(engine: EngineDep) -> dict:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:  # the database is down: say so, without its URL
        raise Problem(503, "database_unavailable", f"base injoignable ({type(exc).__name__})") from None
    head = _head(engine)
    if current != head:
        raise Problem(503, "schema_outdated", f"schéma en version {current}, attendu {head} : lancez `m3 db upgrade`",
                      current=current, head=head)
    return {"status": "ready", "schema": current}
