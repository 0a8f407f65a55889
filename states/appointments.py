"""Appointments the client agreed to: book, move, cancel (pure decisions, audited by the write path).

An appointment is stored in UTC and read in the client's time zone (rules and messages). It is
the proof of consent that lets its call fall outside D223-9's hours (states/calls.py), so booking
requires the client's agreement. Booking on an unreached case is *RDV pris*: the client was
reached to agree, so the case moves to joint/RDV in the same change. The client gets a
confirmation email (a service message, sent even if they opposed marketing email), an updated
one when it moves, a cancellation notice when it is cancelled; with no valid email address
nothing is queued and the change says so.

Status: scheduled, done (a call was recorded against it), cancelled. *Missed* is never stored:
a scheduled appointment whose time plus the tolerance has passed shows as missed (`status_at`).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from states.calendar import client_timezone
from states.commands import APPOINTMENT_TOLERANCE, BookAppointment, CancelAppointment, MoveAppointment
from states.effects import Effects, Insert, Notify, Row, Update
from states.errors import InvalidChange
from states.lifecycle import UNREACHED_STATES, next_state
from states.records import AppointmentChannel, AppointmentRecord, AppointmentStatus, CaseSnapshot
from states.validators import validate_email_address

CONFIRMATION = "appointment_confirmation"
CANCELLATION = "appointment_cancellation"
CHANNEL_LABELS = {AppointmentChannel.PHONE: "par téléphone", AppointmentChannel.AGENCY: "à l'agence",
                  AppointmentChannel.VIDEO: "en visioconférence"}
STATUS_LABELS = {AppointmentStatus.SCHEDULED: "prévu", AppointmentStatus.DONE: "effectué",
                 AppointmentStatus.CANCELLED: "annulé", AppointmentStatus.MISSED: "manqué"}


def status_at(status: AppointmentStatus | str, at: datetime, now: datetime,
              tolerance: timedelta = APPOINTMENT_TOLERANCE) -> AppointmentStatus:
    """The status to show at `now`: a scheduled appointment past its time + tolerance is missed."""
    status = AppointmentStatus(status)
    if status is AppointmentStatus.SCHEDULED and at + tolerance < now:
        return AppointmentStatus.MISSED
    return status


def _iso(at: datetime) -> str:
    """UTC, as stored: the audit and the payloads compare equal whatever offset the caller sent."""
    return at.astimezone(timezone.utc).isoformat()


def _local(case: CaseSnapshot, at: datetime) -> str:
    tz = client_timezone(case.client.postal_code if case.client else None)
    return f"{at.astimezone(tz):%d/%m/%Y %H:%M} ({tz.key})"


def _find(case: CaseSnapshot, appointment_id: int) -> AppointmentRecord:
    appt = next((a for a in case.appointments or () if a.id == appointment_id), None)
    if appt is None:
        raise InvalidChange({"appointment_id": f"rendez-vous {appointment_id} inconnu dans ce dossier"})
    if appt.status is not AppointmentStatus.SCHEDULED:
        raise InvalidChange({"appointment_id": f"rendez-vous {STATUS_LABELS[appt.status]} : "
                                               "il ne peut plus être modifié"})
    return appt


def _future(case: CaseSnapshot, at: datetime, now: datetime) -> None:
    if at.tzinfo is None:
        raise InvalidChange({"at": "heure sans fuseau horaire"})
    if at <= now:
        raise InvalidChange({"at": f"rendez-vous dans le passé : {_local(case, at)}, il est {_local(case, now)}"})


def _check_advisor(case: CaseSnapshot, advisor_id: int | None) -> None:
    if advisor_id is None:
        raise InvalidChange({"advisor_id": "indiquez le chargé de clientèle du rendez-vous"})
    adv = case.advisors.get(advisor_id)
    if adv is None:
        raise InvalidChange({"advisor_id": f"chargé de clientèle {advisor_id} inconnu"})
    if not adv.active:
        raise InvalidChange({"advisor_id": f"{adv.name} n'est plus actif"})
    agency = case.agency_id or case.client.agency_id
    if adv.agency_id != agency:
        raise InvalidChange({"advisor_id": f"{adv.name} appartient à l'agence {adv.agency_id}, "
                                           f"pas à celle du dossier ({agency})"})


def _notify(case: CaseSnapshot, fx: Effects, kind: str, payload: dict[str, Any]) -> None:
    """Queue a service email to the client, or record in the change why none was queued."""
    email, reason = validate_email_address(case.client.email)
    if reason:
        fx.changes[f"notification.{kind}"] = [None, f"non envoyé : {reason}"]
        return
    fx.notifications.append(Notify(kind, payload))
    fx.changes[f"notification.{kind}"] = [None, f"en file pour {email}"]


def _payload(appointment_id: int | None, at: datetime, channel: AppointmentChannel, advisor_id: int | None,
             **extra: Any) -> dict[str, Any]:
    # What the message announces, as it was decided: a later move sends its own message.
    return {"appointment_id": appointment_id, "at": _iso(at), "channel": channel.value,
            "advisor_id": advisor_id, **extra}


def book(case: CaseSnapshot, cmd: BookAppointment, now: datetime) -> Effects:
    if not cmd.client_agreed:
        raise InvalidChange({"client_agreed": "le client doit avoir accepté ce rendez-vous : son accord est la "
                                              "preuve du consentement (D223-9)"})
    _future(case, cmd.at, now)
    _check_advisor(case, cmd.advisor_id)
    values = {"at": cmd.at, "channel": cmd.channel.value, "client_agreed": True,
              "status": AppointmentStatus.SCHEDULED.value, "advisor_id": cmd.advisor_id,
              "created_at": now, "updated_at": now}
    fx = Effects(action="book_appointment")
    fx.inserts.append(Insert(Row.APPOINTMENT, values))
    fx.changes["appointment"] = [None, {"at": _iso(cmd.at), "client_time": _local(case, cmd.at),
                                        "channel": cmd.channel.value, "advisor_id": cmd.advisor_id,
                                        "client_agreed": True, "status": values["status"]}]
    if case.state in UNREACHED_STATES:  # "RDV pris": the client was reached to agree
        dest = next_state(case.state, "prendre_rdv").value
        fx.case["state"] = dest
        fx.changes["case.state"] = [case.state, dest]
        if case.reached_at is None:
            fx.case["reached_at"] = now
    _notify(case, fx, CONFIRMATION, _payload(None, cmd.at, cmd.channel, cmd.advisor_id, update=False))
    return fx


def move(case: CaseSnapshot, cmd: MoveAppointment, now: datetime) -> Effects:
    appt = _find(case, cmd.appointment_id)
    at = cmd.at if cmd.at is not None else appt.at
    if cmd.at is not None:
        _future(case, cmd.at, now)
    advisor_id = cmd.advisor_id if cmd.advisor_id is not None else appt.advisor_id
    if cmd.advisor_id is not None:
        _check_advisor(case, cmd.advisor_id)
    channel = cmd.channel or appt.channel
    fx = Effects(action="move_appointment", reason=cmd.reason)
    values: dict[str, Any] = {}
    prefix = f"appointment.{appt.id}"
    if at != appt.at:
        values["at"] = at
        fx.changes[f"{prefix}.at"] = [_iso(appt.at), _iso(at)]
        fx.changes[f"{prefix}.client_time"] = [_local(case, appt.at), _local(case, at)]
    if channel is not appt.channel:
        values["channel"] = channel.value
        fx.changes[f"{prefix}.channel"] = [appt.channel.value, channel.value]
    if advisor_id != appt.advisor_id:
        values["advisor_id"] = advisor_id
        fx.changes[f"{prefix}.advisor_id"] = [appt.advisor_id, advisor_id]
    if not values:
        raise InvalidChange({"appointment": "rien à modifier"})
    fx.updates.append(Update(Row.APPOINTMENT, appt.id, dict(values, updated_at=now)))
    _notify(case, fx, CONFIRMATION, _payload(appt.id, at, channel, advisor_id, update=True,
                                             previous_at=_iso(appt.at)))
    return fx


def cancel(case: CaseSnapshot, cmd: CancelAppointment, now: datetime) -> Effects:
    if not (cmd.reason or "").strip():
        raise InvalidChange({"reason": "une annulation doit être motivée"})
    appt = _find(case, cmd.appointment_id)
    fx = Effects(action="cancel_appointment", reason=cmd.reason.strip())
    fx.updates.append(Update(Row.APPOINTMENT, appt.id, {"status": AppointmentStatus.CANCELLED.value,
                                                        "cancel_reason": cmd.reason.strip(), "updated_at": now}))
    fx.changes[f"appointment.{appt.id}.status"] = [appt.status.value, AppointmentStatus.CANCELLED.value]
    if appt.at > now:
        _notify(case, fx, CANCELLATION, _payload(appt.id, appt.at, appt.channel, appt.advisor_id))
    else:  # already past (missed): telling the client it is cancelled would only confuse
        fx.changes[f"notification.{CANCELLATION}"] = [None, "non envoyé : le rendez-vous est déjà passé"]
    return fx
