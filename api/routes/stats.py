"""Statistics per cohort month, agency and advisor: managers (their agency) and admins."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.access import require
from api.deps import CurrentUser, EngineDep, NowDep, local_today
from api.errors import Problem
from api.openapi import READ, op
from api.queries.stats import StatsFilter, compute
from api.schemas import NO_NUL

router = APIRouter(tags=["statistiques"])


@router.get("/stats", summary="Statistiques par mois de cohorte, agence et conseiller",
            description="Par (mois de cohorte, agence, chargé de clientèle) et au total : dossiers par état, taux "
                        "de joignabilité et de traitement dans les délais, complétude des pièces, opportunités, "
                        "résultats, actions, multi-équipement avant et après le bilan. Un responsable d'agence ne "
                        "voit que la sienne (une autre : 403 `forbidden_agency`).",
            **op("getStats", *READ, "forbidden_agency", permission="stats.read"))
def stats(user: CurrentUser, engine: EngineDep, now: NowDep,
          cohort_month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="AAAA-MM")] = None,
          agency: Annotated[str | None, Query(max_length=32, pattern=NO_NUL)] = None,
          advisor: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None) -> dict:
    require(user, "stats.read")
    if agency is not None and not user.sees(agency):
        raise Problem(403, "forbidden_agency", f"statistiques de l'agence {agency} hors de votre périmètre")
    f = StatsFilter(scope=user.scope, cohort_month=cohort_month, agency=agency, advisor=advisor)
    with engine.connect() as conn:
        data = compute(conn, f, local_today(now))
    return {"filters": {"cohort_month": cohort_month, "agency": agency or user.scope, "advisor": advisor}, **data}
