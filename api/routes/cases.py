"""Reading cases: the filtered, sorted, paginated list and the one case with everything to work it."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from api.access import not_found, require
from api.deps import CurrentUser, EngineDep, NowDep, etag, local_today
from api.routes.appointments import tolerance
from api.queries.cases import SORT_KEYS, CaseFilter, case_detail, list_cases
from api.openapi import READ, READ_CASE, op
from api.schemas import NO_NUL, CasePage
from states.lifecycle import State

router = APIRouter(prefix="/cases", tags=["dossiers"])
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Numéro du dossier")]
SortKey = Literal[SORT_KEYS]  # type: ignore[valid-type]


@router.get("", response_model=CasePage, summary="Lister les dossiers",
            description="Les dossiers visibles par l'utilisateur (son agence, ou toutes pour la conformité et "
                        "l'administrateur), filtrés, triés (par défaut : priorité décroissante, puis échéance) et "
                        "paginés. `total` compte tous les dossiers du filtre.",
            **op("listCases", *READ, permission="cases.read"))
def list_(user: CurrentUser, engine: EngineDep, now: NowDep,
          state: Annotated[list[State] | None, Query(description="Un ou plusieurs états")] = None,
          agency: Annotated[str | None, Query(max_length=32, pattern=NO_NUL)] = None,
          advisor: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Chargé de clientèle")] = None,
          cohort_month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="AAAA-MM")] = None,
          late: Annotated[bool | None, Query(description="En retard : ouvert, client non joint, fenêtre de contact "
                                                          "dépassée")] = None,
          overdue: Annotated[bool | None, Query(description="Ancien nom de `late` (même définition)")] = None,
          caught_up: Annotated[bool | None, Query(description="Rattrapé : ouvert par le rattrapage du mois "
                                                               "précédent")] = None,
          priority_min: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
          sort: Annotated[list[SortKey] | None, Query(description="Clé de tri, `-` pour décroissant")] = None,
          page: Annotated[int, Query(ge=1, le=100_000)] = 1,
          per_page: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
    require(user, "cases.read")
    f = CaseFilter(scope=user.scope, state=[s.value for s in state] if state else None, agency=agency,
                   advisor=advisor, cohort_month=cohort_month, late=late, overdue=overdue, priority_min=priority_min,
                   caught_up=caught_up)
    with engine.connect() as conn:
        total, items = list_cases(conn, f, sort or ["-priority", "due_date"], page, per_page, local_today(now))
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@router.get("/{case_id}", summary="Un dossier et tout ce qu'il faut pour le traiter",
            description="Le dossier, la fiche client et sa liste de contrôle (statut et motif de chaque champ), "
                        "les contrats avec leurs signatures et pièces, les tentatives, les rendez-vous, "
                        "l'inventaire, les résultats du bilan, les actions et les événements possibles maintenant "
                        "avec leurs conditions manquantes. L'en-tête `ETag` porte la version à renvoyer dans "
                        "`If-Match` pour toute écriture. Un dossier d'une autre agence répond 404.",
            response_description="Le dossier ; l'en-tête ETag porte sa version, à renvoyer dans If-Match",
            **op("getCase", *READ_CASE, permission="cases.read"))
def get_one(case_id: CaseId, user: CurrentUser, engine: EngineDep, now: NowDep, response: Response,
            request: Request) -> dict:
    require(user, "cases.read")
    with engine.connect() as conn:
        detail = case_detail(conn, case_id, local_today(now), now, tolerance(request))
    if detail is None or not user.sees(detail["case"]["agency_id"]):
        raise not_found(case_id)
    response.headers["ETag"] = etag(detail["version"])
    return detail
