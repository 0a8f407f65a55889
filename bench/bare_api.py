"""The benchmark's baseline: a bare endpoint doing the same SQL writes as a client correction
through the engine (bump the case version, update the client, append an audit record), without
snapshot, decide, guards or the audit hash chain. Mounted only when M3_BENCH_BARE=1.

Same authentication and If-Match parsing as the real route, so the ratio measures the engine.
"""
from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from sqlalchemy import bindparam, insert, select, update

from api.deps import CurrentUser, EngineDep, NowDep, VersionDep
from api.errors import Problem
from api.schemas import ClientCorrection
from store.snapshot import CASE, CLIENT
from store.tables import AuditRecord

AUDIT = AuditRecord.__table__
router = APIRouter(prefix="/bare", include_in_schema=False)

# Statements built once, as the write path builds its own: a baseline that rebuilt and re-keyed
# its statements on every request would be slower than it needs to be and flatter the ratio.
_BUMP = (update(CASE).where(CASE.c.id == bindparam("w_id"), CASE.c.version == bindparam("w_version"))
         .values(version=CASE.c.version + 1, audit_seq=CASE.c.audit_seq + 1, updated_at=bindparam("w_now"))
         .returning(CASE.c.client_id, CASE.c.audit_seq, CASE.c.version))
_VERSION = select(CASE.c.version).where(CASE.c.id == bindparam("w_id"))
_UPDATE_CLIENT = update(CLIENT).where(CLIENT.c.id == bindparam("w_id"))  # SET from the parameters' keys
_INSERT_AUDIT = insert(AUDIT)


@router.patch("/cases/{case_id}/client")
def bare_correct(case_id: Annotated[int, Path(ge=1)], body: ClientCorrection, user: CurrentUser, engine: EngineDep,
                 now: NowDep, version: VersionDep) -> JSONResponse:
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    with engine.begin() as conn:
        row = conn.execute(_BUMP, {"w_id": case_id, "w_version": version, "w_now": now}).first()
        if row is None:
            current = conn.execute(_VERSION, {"w_id": case_id}).scalar_one_or_none()
            raise Problem(409, "version_conflict", "stale", current_version=current)
        conn.execute(_UPDATE_CLIENT, {**changes, "w_id": row.client_id})
        h = hashlib.sha256(f"{case_id}:{row.audit_seq}".encode()).hexdigest()
        conn.execute(_INSERT_AUDIT, dict(case_id=case_id, seq=row.audit_seq, at=now, actor=user.actor,
                                         action="correct_client", changes={k: [None, v] for k, v in changes.items()},
                                         reason=None, prev_hash=h, hash=h))
    # A ready response, as the engine route returns: neither pays FastAPI's response encoding.
    return JSONResponse({"case_id": case_id, "version": row.version}, headers={"ETag": f'"{row.version}"'})
