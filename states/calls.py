"""A contact attempt recorded as it happened: who placed it, on what basis, and what follows.

- **Direction and basis.** A phone call is outbound (the agency placed it) or inbound (the client
  rang); an outbound call is a *solicitation* or the call of an *appointment* the client agreed
  to. Recorded without either, a phone call is an outbound solicitation: the strictest reading
  is the default. An email or letter is outbound when sent and inbound when the client replied.
- **Which rules apply.** D223-9 (hours, days, 4 in 30 days, 60 days after a refusal, and the
  client's phone opposition) restricts outbound solicitation only. An inbound call, or the call
  of a consented appointment, is recorded whatever the hour: the appointment row (its date, time
  and the client's agreement) is the proof of consent D223-9 asks for. Such a call must name an
  appointment of this case that is not cancelled and whose time is within the tolerance.
- **Always.** No contact before the case opened, none in the future; a solicitation before the
  contact window opens is *trop tôt*, a fault the process names.
- **What follows.** A reached client moves an unreached case to joint/RDV, with `reached_at` the
  time of the call (not of its recording). A refusal closes the case as *refus* in the same
  change; the contracts' missing signatures and documents stay as one open *pièces à obtenir*
  action (a refused review does not waive compliance), which the closed case lets be completed;
  its other scheduled appointments are cancelled (reason "refus du client", no notice sent).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from states import requirements
from states.calendar import PARIS, client_timezone
from states.calling_rules import call_refusals
from states.commands import RecordAttempt, UpdateAction
from states.effects import Effects, Insert, Row, Update
from states.errors import CallingRulesViolation, InvalidChange
from states.lifecycle import UNREACHED_STATES, ClosingReason, next_state
from states.records import (
    ActionKind, ActionStatus, AppointmentRecord, AppointmentStatus, AttemptOutcome, CallBasis, CaseSnapshot, Channel,
    Direction, REACHED_OUTCOMES,
)

_WRITTEN_OUTCOMES = (AttemptOutcome.SENT, AttemptOutcome.REPLIED)


def _when(at: datetime, tz) -> str:
    return f"{at.astimezone(tz):%d/%m/%Y à %H:%M}"


def _minutes(d: timedelta) -> str:
    m = int(d.total_seconds() // 60)
    return f"{m // 60} h {m % 60:02d}" if m % 60 else f"{m // 60} h"


def check_attempt_advisor(case: CaseSnapshot, advisor_id: int | None) -> None:
    """The advisor who made the contact exists, is active and belongs to the case's agency."""
    if advisor_id is None:
        return
    adv = case.advisors.get(advisor_id)
    if adv is None:
        raise InvalidChange({"advisor_id": f"chargé de clientèle {advisor_id} inconnu"})
    if not adv.active:
        raise InvalidChange({"advisor_id": f"{adv.name} n'est plus actif"})
    agency = case.agency_id or (case.client.agency_id if case.client else None)
    if agency is not None and adv.agency_id != agency:
        raise InvalidChange({"advisor_id": f"{adv.name} appartient à l'agence {adv.agency_id}, "
                                           f"pas à celle du dossier ({agency})"})


def direction_and_basis(cmd: RecordAttempt) -> tuple[Direction, CallBasis | None]:
    """The attempt's direction and basis, defaults applied; contradictions refused."""
    if cmd.channel is not Channel.PHONE:
        if cmd.outcome not in _WRITTEN_OUTCOMES:
            raise InvalidChange({"outcome": f"un {cmd.channel.value} est « sent » ou « replied »"})
        if cmd.basis is not None or cmd.appointment_id is not None:
            raise InvalidChange({"basis": "seul un appel sortant a une base (sollicitation ou rendez-vous)"})
        derived = Direction.INBOUND if cmd.outcome is AttemptOutcome.REPLIED else Direction.OUTBOUND
        if cmd.direction is not None and cmd.direction is not derived:
            raise InvalidChange({"direction": "un envoi est sortant (sent), une réponse du client entrante (replied)"})
        return derived, None
    if cmd.outcome in _WRITTEN_OUTCOMES:
        raise InvalidChange({"outcome": "un appel n'est ni « sent » ni « replied »"})
    direction = cmd.direction or Direction.OUTBOUND
    if direction is Direction.INBOUND:
        if cmd.basis is not None or cmd.appointment_id is not None:
            raise InvalidChange({"basis": "un appel entrant (le client appelle) n'a pas de base ni de rendez-vous"})
        return direction, None
    basis = cmd.basis or (CallBasis.APPOINTMENT if cmd.appointment_id is not None else CallBasis.SOLICITATION)
    if basis is CallBasis.APPOINTMENT and cmd.appointment_id is None:
        raise InvalidChange({"appointment_id": "un appel sur rendez-vous indique le rendez-vous (appointment_id)"})
    if basis is CallBasis.SOLICITATION and cmd.appointment_id is not None:
        raise InvalidChange({"basis": "un appel lié à un rendez-vous a la base « appointment »"})
    return direction, basis


def consented_appointment(case: CaseSnapshot, appointment_id: int, at: datetime,
                          tolerance: timedelta) -> AppointmentRecord:
    """The appointment a call at `at` is the call of: of this case, not cancelled, near its time."""
    tz = client_timezone(case.client.postal_code if case.client else None)
    appt = next((a for a in case.appointments or () if a.id == appointment_id), None)
    if appt is None:
        raise InvalidChange({"appointment_id": f"rendez-vous {appointment_id} inconnu dans ce dossier"})
    if appt.status is AppointmentStatus.CANCELLED:
        raise InvalidChange({"appointment_id": f"le rendez-vous du {_when(appt.at, tz)} a été annulé : "
                                               "l'appel est une sollicitation"})
    if not appt.client_agreed:
        raise InvalidChange({"appointment_id": "rendez-vous sans accord du client : pas de consentement"})
    if abs(at - appt.at) > tolerance:
        raise InvalidChange({"at": f"appel du {_when(at, tz)} trop loin du rendez-vous du {_when(appt.at, tz)} "
                                   f"(± {_minutes(tolerance)}, heure du client)"})
    return appt


def solicitation_refusals(case: CaseSnapshot, at: datetime) -> list[str]:
    """Every reason an outbound solicitation call at `at` is refused (D223-9, opposition, too early)."""
    client = case.client
    return refusals_of(client.kind, client.postal_code, client.opposition_phone, case.window_start,
                       case.attempts or (), at)


def refusals_of(kind: ClientKind, postal_code: str | None, opposition_phone: bool, window_start: date | None,
                attempts: Iterable[AttemptRecord], at: datetime) -> list[str]:
    """`solicitation_refusals` from the values it reads: what a list of a few hundred cases
    calls without building a snapshot per case (a frozen ClientRecord and CaseSnapshot each
    cost more than the rules themselves: "Mes dossiers", docs/performance-pages.md)."""
    reasons: list[str] = []
    if opposition_phone:
        reasons.append("le client s'est opposé au démarchage téléphonique")
    local_day = at.astimezone(client_timezone(postal_code)).date()
    if window_start is not None and local_day < window_start:
        reasons.append(f"trop tôt : la fenêtre de contact s'ouvre le {window_start:%d/%m/%Y} "
                       f"(appel du {local_day:%d/%m/%Y})")
    reasons += call_refusals(kind, postal_code, at, attempts)
    return reasons


def missing_pieces(case: CaseSnapshot) -> list[dict[str, str]]:
    """The signatures and documents still missing on the case's contracts, in checklist order."""
    return [{"contract_id": k.id, "product": k.product, "code": item.code, "label": item.label}
            for k in case.contracts or () for item in requirements.checklist(k, case.client.kind)
            if not item.satisfied]


def pieces_label(missing: list[dict[str, str]]) -> str:
    """'Pièces à obtenir : Auto (K1) : DP signées, carte grise ; Habitation (K2) : bail'."""
    groups: dict[tuple[str, str], list[str]] = {}
    for m in missing:
        groups.setdefault((m["product"], m["contract_id"]), []).append(m["label"])
    return "Pièces à obtenir : " + " ; ".join(f"{p} ({k}) : {', '.join(labels)}" for (p, k), labels in groups.items())


def _close_on_refusal(case: CaseSnapshot, cmd: RecordAttempt, now: datetime, fx: Effects) -> None:
    dest = next_state(case.state, "enregistrer_refus")  # from every open state (the table says so)
    fx.case["state"] = dest.value
    fx.changes["case.state"] = [case.state, dest.value]
    fx.case["closing_reason"] = ClosingReason.REFUS.value
    fx.changes["case.closing_reason"] = [case.closing_reason, ClosingReason.REFUS.value]
    fx.case["closed_at"] = now
    if case.reached_at is None:  # the client was reached, to say no
        fx.case["reached_at"] = cmd.at
    for appt in case.appointments or ():  # a refused review keeps no appointment (no notice sent)
        if appt.status is AppointmentStatus.SCHEDULED and appt.id != cmd.appointment_id:
            fx.updates.append(Update(Row.APPOINTMENT, appt.id, {"status": AppointmentStatus.CANCELLED.value,
                                                                "cancel_reason": "refus du client", "updated_at": now}))
            fx.changes[f"appointment.{appt.id}.status"] = [appt.status.value, AppointmentStatus.CANCELLED.value]
    missing = missing_pieces(case)
    if not missing:
        return
    owner = case.assigned_advisor_id or cmd.advisor_id
    if owner is None:
        raise InvalidChange({"advisor_id": "dossier sans chargé de clientèle : indiquez qui obtiendra les pièces"})
    due = now.astimezone(PARIS).date() + timedelta(days=cmd.pieces_due_days)
    row = {"kind": ActionKind.PIECES.value, "owner_id": owner, "due_date": due, "label": pieces_label(missing),
           "status": ActionStatus.OPEN.value, "created_at": now}
    fx.inserts.append(Insert(Row.ACTION, row))
    fx.changes["action"] = [None, {"kind": row["kind"], "owner_id": owner, "due_date": due.isoformat(),
                                   "label": row["label"], "status": row["status"],
                                   "missing": [f"{m['contract_id']}.{m['code']}" for m in missing]}]


def record_attempt(case: CaseSnapshot, cmd: RecordAttempt, now: datetime) -> Effects:
    if cmd.at.tzinfo is None:
        raise InvalidChange({"at": "heure sans fuseau horaire"})
    tz = client_timezone(case.client.postal_code if case.client else None)
    if cmd.at > now:
        raise InvalidChange({"at": f"une tentative ne peut pas être dans le futur ({_when(cmd.at, tz)}, "
                                   f"il est {_when(now, tz)} chez le client)"})
    if case.created_at is not None and cmd.at < case.created_at:
        raise InvalidChange({"at": f"le dossier a été ouvert le {_when(case.created_at, tz)} : "
                                   f"une tentative du {_when(cmd.at, tz)} ne peut pas le précéder"})
    check_attempt_advisor(case, cmd.advisor_id)
    direction, basis = direction_and_basis(cmd)
    appointment = None
    if basis is CallBasis.APPOINTMENT:
        appointment = consented_appointment(case, cmd.appointment_id, cmd.at, cmd.tolerance)
    elif basis is CallBasis.SOLICITATION:
        refusals = solicitation_refusals(case, cmd.at)
        if refusals:
            raise CallingRulesViolation(refusals)
    values: dict[str, Any] = {
        "channel": cmd.channel.value, "at": cmd.at, "outcome": cmd.outcome.value, "advisor_id": cmd.advisor_id,
        "direction": direction.value, "basis": basis.value if basis else None,
        "appointment_id": appointment.id if appointment else None,
    }
    fx = Effects(action="record_attempt")
    fx.inserts.append(Insert(Row.ATTEMPT, values))
    fx.changes["attempt"] = [None, dict(values, at=cmd.at.isoformat())]
    if appointment is not None and appointment.status is AppointmentStatus.SCHEDULED:
        fx.updates.append(Update(Row.APPOINTMENT, appointment.id,
                                 {"status": AppointmentStatus.DONE.value, "updated_at": now}))
        fx.changes[f"appointment.{appointment.id}.status"] = [appointment.status.value, AppointmentStatus.DONE.value]
    if cmd.outcome is AttemptOutcome.REFUSED:
        _close_on_refusal(case, cmd, now, fx)
    elif cmd.outcome in REACHED_OUTCOMES and case.state in UNREACHED_STATES:
        # A reply stops the escalation: the case moves to joint/RDV in the same change.
        event = "prendre_rdv" if cmd.outcome is AttemptOutcome.APPOINTMENT else "joindre"
        dest = next_state(case.state, event).value
        fx.case["state"] = dest
        fx.changes["case.state"] = [case.state, dest]
        fx.case["reached_at"] = cmd.at  # the time of the call, so the on-time rate reads it
    return fx


def completes_pieces_on_closed_case(case: CaseSnapshot, cmd: object) -> bool:
    """The one change a closed case accepts: marking its open *pièces à obtenir* action done
    (the documents still have to be obtained after a refusal, and someone has to say so)."""
    if not isinstance(cmd, UpdateAction) or cmd.status is not ActionStatus.DONE:
        return False
    if cmd.owner_id is not None or cmd.due_date is not None:
        return False
    action = next((a for a in case.actions or () if a.id == cmd.action_id), None)
    return action is not None and action.kind is ActionKind.PIECES and action.status is ActionStatus.OPEN


__all__ = ["record_attempt", "completes_pieces_on_closed_case", "missing_pieces", "pieces_label",
           "solicitation_refusals", "direction_and_basis", "consented_appointment", "check_attempt_advisor"]
