"""Firing an event of the lifecycle on a case, with the version the caller read (If-Match)."""
from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from api.access import change
from api.deps import CurrentUser, EngineDep, NowDep, VersionDep
from api.openapi import WRITE, op
from api.schemas import ChangeOut, EventIn
from states.commands import FireEvent
from states.lifecycle import EVENTS

router = APIRouter(prefix="/cases", tags=["événements"])
EventName = StrEnum("EventName", {e: e for e in EVENTS})  # from the one transition table
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.post("/{case_id}/events/{event}", response_model=ChangeOut, summary="Déclencher un événement",
             description="Fait avancer le dossier dans son cycle de vie (la table des transitions). 409 si "
                         "l'événement n'est pas possible depuis l'état (les possibles sont listés dans `allowed`) "
                         "ou si la version est périmée (`current_version`) ; 422 `guard_failed` si des conditions "
                         "manquent (chacune listée dans `unmet`). `classer_sans_suite` exige un motif (`reason`).",
             **op("fireEvent", *WRITE, permission="cases.write"))
def fire(case_id: CaseId, event: EventName, user: CurrentUser, engine: EngineDep, now: NowDep,
         version: VersionDep, response: Response, body: Annotated[EventIn | None, Body()] = None) -> dict:
    cmd = FireEvent(event.value, body.reason if body else None)
    return change(engine, user, case_id, version, cmd, now, response)
