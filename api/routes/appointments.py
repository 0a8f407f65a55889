"""Appointments on a case: book, move, cancel (through the one write path, If-Match required), list.

The rules are in states/appointments.py; docs/calls-and-appointments.md tells the story.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select

from api.access import change, check_case
from api.deps import CurrentUser, EngineDep, NowDep, VersionDep
from api.openapi import READ_CASE, WRITE, op
from api.queries import appointments as queries
from api.schemas import AppointmentCancelIn, AppointmentIn, AppointmentOut, AppointmentPatch, ChangeOut
from states.commands import APPOINTMENT_TOLERANCE, BookAppointment, CancelAppointment, MoveAppointment
from store.snapshot import CASE, CLIENT

router = APIRouter(prefix="/cases/{case_id}/appointments", tags=["rendez-vous"])
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Numéro du dossier")]
AppointmentId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Numéro du rendez-vous")]
_OUT = dict(response_model=ChangeOut)


def tolerance(request: Request) -> timedelta:
    """The appointment tolerance the app runs with (M3_APPOINTMENT_TOLERANCE_MINUTES)."""
    return getattr(request.app.state, "appointment_tolerance", APPOINTMENT_TOLERANCE)


def _assigned_advisor(engine, case_id: int) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(CASE.c.assigned_advisor_id).where(CASE.c.id == case_id)).scalar_one_or_none()


@router.get("", response_model=list[AppointmentOut], summary="Les rendez-vous du dossier",
            description="Du plus ancien au plus récent, avec l'heure chez le client (son fuseau) ; `missed` = "
                        "passé (au-delà de la tolérance) sans appel.",
            **op("listAppointments", *READ_CASE, permission="cases.read"))
def list_appointments(case_id: CaseId, user: CurrentUser, engine: EngineDep, now: NowDep,
                      request: Request) -> list[dict]:
    check_case(engine, user, case_id, "cases.read")
    with engine.connect() as conn:
        postal = conn.execute(select(CLIENT.c.postal_code).join(CASE, CASE.c.client_id == CLIENT.c.id)
                              .where(CASE.c.id == case_id)).scalar_one_or_none()
        return queries.of_case(conn, case_id, postal, now, tolerance(request))


@router.post("", summary="Prendre un rendez-vous accepté par le client",
             description="Exige `client_agreed: true` (preuve du consentement : l'appel à ce rendez-vous peut être "
                         "hors des plages D223-9). Un dossier non joint passe en « Joint / RDV » (RDV pris). "
                         "Le client reçoit une confirmation par email (message de service, envoyé même en cas "
                         "d'opposition aux emails commerciaux) ; sans adresse valide, la réponse le signale.",
             **_OUT, **op("bookAppointment", *WRITE, permission="cases.write"))
def book(case_id: CaseId, body: AppointmentIn, user: CurrentUser, engine: EngineDep, now: NowDep,
         version: VersionDep, response: Response) -> dict:
    advisor = body.advisor_id or user.advisor_id or _assigned_advisor(engine, case_id)
    cmd = BookAppointment(body.at, body.channel, body.client_agreed, advisor)
    return change(engine, user, case_id, version, cmd, now, response)


@router.patch("/{appointment_id}", summary="Déplacer un rendez-vous (date, canal ou conseiller)",
              description="Le client reçoit une confirmation mise à jour. Un rendez-vous effectué ou annulé ne se "
                          "déplace plus.", **_OUT, **op("moveAppointment", *WRITE, permission="cases.write"))
def move(case_id: CaseId, appointment_id: AppointmentId, body: AppointmentPatch, user: CurrentUser,
         engine: EngineDep, now: NowDep, version: VersionDep, response: Response) -> dict:
    cmd = MoveAppointment(appointment_id, body.at, body.channel, body.advisor_id, body.reason)
    return change(engine, user, case_id, version, cmd, now, response)


@router.post("/{appointment_id}/cancel", summary="Annuler un rendez-vous (motif obligatoire)",
             description="Le client reçoit un avis d'annulation si le rendez-vous n'est pas encore passé.",
             **_OUT, **op("cancelAppointment", *WRITE, permission="cases.write"))
def cancel(case_id: CaseId, appointment_id: AppointmentId, body: AppointmentCancelIn, user: CurrentUser,
           engine: EngineDep, now: NowDep, version: VersionDep, response: Response) -> dict:
    return change(engine, user, case_id, version, CancelAppointment(appointment_id, body.reason), now, response)
