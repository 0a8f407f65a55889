"""Compliance: a case's audit trail (JSON, CSV) and the right-of-access export of one client."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.access import check_case, require
from api.deps import CurrentUser, EngineDep, NowDep
from api.errors import Problem
from api.openapi import READ, READ_CASE, op
from api.queries.export import client_agency, client_export
from api.schemas import NO_NUL
from store import audit

router = APIRouter(tags=["conformité"])
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/cases/{case_id}/audit", summary="Journal d'audit d'un dossier (JSON)",
            description="Chaque écriture sur le dossier, dans l'ordre : qui, quand, quoi (avant/après), le motif, "
                        "et le chaînage des empreintes (`prev_hash`, `hash`) que `m3 audit verify` recalcule.",
            **op("getAuditTrail", *READ_CASE, permission="audit.read"))
def audit_json(case_id: CaseId, user: CurrentUser, engine: EngineDep) -> dict:
    check_case(engine, user, case_id, "audit.read")
    with engine.connect() as conn:
        return {"case_id": case_id, "records": audit.trail(conn, case_id)}


@router.get("/cases/{case_id}/audit.csv", summary="Journal d'audit d'un dossier (CSV)",
            description="Le même journal en CSV (UTF-8, pièce jointe `audit-dossier-<id>.csv`), pour un tableur : "
                        "une cellule de texte qui commencerait une formule reçoit une apostrophe.",
            response_class=Response, **op("exportAuditTrailCsv", *READ_CASE, permission="audit.export",
                                          success={200: {"content": {"text/csv": {}}}}))
def audit_csv(case_id: CaseId, user: CurrentUser, engine: EngineDep) -> Response:
    check_case(engine, user, case_id, "audit.export")
    with engine.connect() as conn:
        body = audit.trail_csv(audit.trail(conn, case_id))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="audit-dossier-{case_id}.csv"'})


@router.get("/clients/{client_id}/export", summary="Tout ce qui est détenu sur un client (droit d'accès)",
            description="Réponse à une demande de droit d'accès (RGPD art. 15) : la fiche, les contrats et leurs "
                        "pièces, les dossiers, les tentatives, l'inventaire, les résultats du bilan, les actions "
                        "et le journal d'audit de chaque dossier (qui porte aussi le texte des notes). Un client "
                        "d'une autre agence répond 404 `client_not_found`.",
            **op("exportClient", *READ, "client_not_found", permission="clients.export"))
def export(client_id: Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL)], user: CurrentUser,
           engine: EngineDep, now: NowDep) -> dict:
    require(user, "clients.export")
    with engine.connect() as conn:
        agency = client_agency(conn, client_id)
        if agency is None or not user.sees(agency):
            raise Problem(404, "client_not_found", f"client {client_id} introuvable")
        data = client_export(conn, client_id)
    return {"exported_at": now, "exported_by": user.username, **data}
