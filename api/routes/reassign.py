"""Reassigning cases to another advisor of the same agency: one, or many with a result each."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.access import change, not_found, require
from api.deps import CurrentUser, EngineDep, NowDep, VersionDep
from api.errors import DOMAIN_ERRORS, Problem, domain_problem
from api.openapi import AUTH, BODY, WRITE, op
from api.queries.cases import agency_of
from api.schemas import BulkOut, BulkReassignIn, ChangeOut, ReassignIn
from states.commands import Reassign
from store.write_path import execute

router = APIRouter(prefix="/cases", tags=["réassignation"])


@router.post("/reassign", response_model=BulkOut, summary="Réassigner plusieurs dossiers",
             description="Chaque dossier est traité seul (sa version, sa transaction) ; "
                         "le résultat de chacun porte le statut HTTP qu'il aurait eu et, en cas de refus, son "
                         "problème (`code`, `detail`). La version de chaque dossier est dans le corps, pas dans "
                         "If-Match. 500 dossiers au plus par requête.",
             **op("reassignCases", *AUTH, "csrf", *BODY, permission="cases.reassign"))
def bulk(body: BulkReassignIn, user: CurrentUser, engine: EngineDep, now: NowDep) -> dict:
    require(user, "cases.reassign")
    results = []
    for item in body.items:
        try:
            with engine.connect() as conn:
                agency = agency_of(conn, item.case_id)
            if agency is None or not user.sees(agency):
                raise not_found(item.case_id)
            r = execute(engine, item.case_id, item.version, Reassign(item.advisor_id, body.reason), user.actor, now)
            results.append({"case_id": item.case_id, "status": 200, "version": r.version})
        except (Problem, *DOMAIN_ERRORS) as exc:
            p = exc if isinstance(exc, Problem) else domain_problem(exc)
            results.append({"case_id": item.case_id, "status": p.status,
                            "problem": {"code": p.code, "detail": p.detail, **p.extra}})
    ok = sum(1 for r in results if r["status"] == 200)
    return {"ok": ok, "failed": len(results) - ok, "results": results}


@router.post("/{case_id}/reassign", response_model=ChangeOut, summary="Réassigner un dossier",
             description="Confie le dossier à un autre chargé de clientèle actif de la même agence, avec un "
                         "motif facultatif (journal d'audit).",
             **op("reassignCase", *WRITE, permission="cases.reassign"))
def one(case_id: Annotated[int, Path(ge=1, le=2_147_483_647)], body: ReassignIn, user: CurrentUser,
        engine: EngineDep, now: NowDep, version: VersionDep, response: Response) -> dict:
    return change(engine, user, case_id, version, Reassign(body.advisor_id, body.reason), now, response,
                  permission="cases.reassign")
