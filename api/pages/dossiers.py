""""Mes dossiers" (/dossiers): the user's open cases in the order of the day, with filters and search.

The filters are a GET form, so a filtered list is a link one can bookmark; htmx swaps the list
alone (block "results") as the user types or changes a filter.
"""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.access import require
from api.pages import labels as L
from api.pages.common import PageUser, int_or_none, render
from api.queries import worklist
from states.lifecycle import STATE_LABELS, State

router = APIRouter(include_in_schema=False)

STATE_CHOICES = [(s.value, STATE_LABELS[s]) for s in State]
GROUP_ROWS = 40  # cases shown per group before "afficher les autres" (docs/performance-pages.md)


def _filters(request: Request, user) -> tuple[worklist.Filters, dict]:
    p = request.query_params
    mine_default = "moi" if user.advisor_id else "agence"
    perimetre = p.get("perimetre") if p.get("perimetre") in ("moi", "agence") else mine_default
    advisor = int_or_none(p.get("conseiller"))
    if perimetre == "moi" and user.advisor_id and advisor is None:
        advisor = user.advisor_id
    states = tuple(s for s in p.getlist("etat") if s in {v for v, _ in STATE_CHOICES})
    agency = p.get("agence") or None
    if agency is not None and not user.sees(agency):
        agency = None
    f = worklist.Filters(scope=user.scope, advisor=advisor, agency=agency, states=states,
                         late=p.get("retard") == "1", q=(p.get("q") or "").strip()[:100] or None)
    shown = {"perimetre": perimetre, "conseiller": advisor if perimetre == "agence" else None,
             "etat": list(states), "agence": agency or "", "retard": f.late, "q": f.q or ""}
    return f, shown


@router.get("/dossiers")
async def my_cases(request: Request, user: PageUser):
    require(user, "cases.read")
    f, shown = _filters(request, user)
    now = request.app.state.clock()

    # Each group shows its first GROUP_ROWS cases, then "afficher les N autres" (?tout=1): an
    # advisor's few hundred cases are counted and ordered in full, the page stays light.
    every = request.query_params.get("tout") == "1"
    per_group = None if every else GROUP_ROWS

    def work():
        with request.app.state.engine.connect() as conn:
            return (worklist.load(conn, f, now, detail=per_group), worklist.advisors_of(conn, user.scope),
                    worklist.agencies(conn) if user.scope is None else [])

    wl, advisors, agencies = await run_in_threadpool(work)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "tout"]
    ctx = {"wl": wl, "f": shown, "advisors": advisors, "agencies": agencies, "states": STATE_CHOICES,
           "now": now, "limit": worklist.LIMIT, "labels": L.ALL, "per_group": per_group,
           "every_url": "/dossiers?" + urlencode(params + [("tout", "1")])}
    return render(request, "dossiers/page.html", ctx, block="results")
