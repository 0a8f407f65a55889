"""Reading appointments: a case's, with their status as of now ("missed" derived, never stored).

A scheduled appointment whose time plus the tolerance has passed with no call recorded against
it (a call with basis=appointment marks it done) shows as missed, in the case detail, in these
lists and in the advisor's digest (flows/reminders.py), until it is moved or cancelled.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from notifications import fr
from states.appointments import CHANNEL_LABELS, STATUS_LABELS, status_at
from states.calendar import client_timezone
from states.commands import APPOINTMENT_TOLERANCE
from states.people import advisor_display_name
from states.records import AppointmentChannel, AppointmentStatus
from store.snapshot import ADVISOR, APPOINTMENT


def describe(r, advisor_name: str | None, postal_code: str | None, now: datetime,
             tolerance: timedelta = APPOINTMENT_TOLERANCE) -> dict[str, Any]:
    """One appointment row as the API and the pages show it."""
    tz = client_timezone(postal_code)
    status = status_at(r.status, r.at, now, tolerance)
    channel = AppointmentChannel(r.channel)
    return {
        "id": r.id, "at": r.at, "client_time": fr.datetime_short(r.at, tz), "timezone": tz.key,
        "channel": channel.value, "channel_label": CHANNEL_LABELS[channel],
        "status": status.value, "status_label": STATUS_LABELS[status],
        "advisor_id": r.advisor_id, "advisor_name": advisor_name, "client_agreed": r.client_agreed,
        "cancel_reason": r.cancel_reason,
    }


def of_case(conn: Connection, case_id: int, postal_code: str | None, now: datetime,
            tolerance: timedelta = APPOINTMENT_TOLERANCE) -> list[dict[str, Any]]:
    """The case's appointments, oldest first."""
    rows = conn.execute(
        select(APPOINTMENT, ADVISOR.c.name.label("advisor_crm_name"), ADVISOR.c.first_name.label("advisor_first"),
               ADVISOR.c.last_name.label("advisor_last"))
        .outerjoin(ADVISOR, ADVISOR.c.id == APPOINTMENT.c.advisor_id)
        .where(APPOINTMENT.c.case_id == case_id).order_by(APPOINTMENT.c.at, APPOINTMENT.c.id)).all()
    return [describe(r, advisor_display_name(r.advisor_first, r.advisor_last, r.advisor_crm_name)
                     if r.advisor_id else None, postal_code, now, tolerance) for r in rows]


def next_of(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The next appointment: the earliest still scheduled and not missed (possibly under way)."""
    return next((a for a in items if a["status"] == AppointmentStatus.SCHEDULED.value), None)
