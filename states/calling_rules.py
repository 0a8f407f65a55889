"""When a phone call is allowed (Code de la consommation D223-9, in force since 1 March 2023).

Consumers, existing clients included: Monday-Friday, 10:00-13:00 and 14:00-20:00 in the client's
time zone, never on public holidays, at most 4 calls or attempts per rolling 30 days, and none
for 60 days after a refusal. Professionals and companies fall outside the consumer code; we
call them in business hours (our choice, 09:00-12:30 and 13:30-18:00, business days).

These rules restrict outbound *solicitation* only. Inbound calls and calls at an appointment the
client agreed to are recorded whatever the hour (states/calls.py decides which rules apply).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Iterable

from states.calendar import client_timezone, is_public_holiday
from states.records import AttemptOutcome, AttemptRecord, Channel, ClientKind


@dataclass(frozen=True)
class CallingPolicy:
    consumer_slots: tuple[tuple[time, time], ...] = ((time(10), time(13)), (time(14), time(20)))
    business_slots: tuple[tuple[time, time], ...] = ((time(9), time(12, 30)), (time(13, 30), time(18)))
    max_calls: int = 4
    rolling_days: int = 30
    refusal_quiet_days: int = 60


DEFAULT_POLICY = CallingPolicy()
# French day names: strftime's %A follows the process locale (English by default).
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def _fmt(slots: tuple[tuple[time, time], ...]) -> str:
    return " et ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in slots)


def solicitation_count_refusal(at: datetime, previous: Iterable[AttemptRecord], tz: tzinfo,
                               policy: CallingPolicy = DEFAULT_POLICY) -> str | None:
    """The reason a solicitation at `at` would be one too many, or None.

    The limit holds in EVERY window of `rolling_days` calendar days (in the client's time zone)
    that contains the new call, whatever the order in which calls are recorded: a call recorded
    late (back-dated) is checked against the calls around it, before and after, so no window can
    ever hold more than `max_calls` solicitations.
    """
    solicitations = [a.at for a in previous if a.is_solicitation]
    if len(solicitations) < policy.max_calls:  # fewer calls than the limit: the usual case, decided before any
        return None  # date is converted ("Mes dossiers" asks it of every open case: ~15 % of its time)
    day = at.astimezone(tz).date()
    span = policy.rolling_days - 1
    days = sorted(d for d in (t.astimezone(tz).date() for t in solicitations) if abs((d - day).days) <= span)
    if len(days) < policy.max_calls:  # no window can hold more calls than there are in reach
        return None
    worst, worst_start = -1, day
    for offset in range(span, -1, -1):  # the windows [day - offset, day - offset + span]
        start = day - timedelta(days=offset)
        end = start + timedelta(days=span)
        n = sum(1 for d in days if start <= d <= end)
        if n > worst:
            worst, worst_start = n, start
    if worst < policy.max_calls:
        return None
    end = worst_start + timedelta(days=span)
    return (f"déjà {worst} appels sur {policy.rolling_days} jours glissants du {worst_start:%d/%m/%Y} au "
            f"{end:%d/%m/%Y} (maximum {policy.max_calls}, D223-9)")


def call_refusals(
    kind: ClientKind,
    postal_code: str | None,
    at: datetime,
    previous: Iterable[AttemptRecord],
    policy: CallingPolicy = DEFAULT_POLICY,
) -> list[str]:
    """Every reason an outbound solicitation call at `at` (timezone-aware) is not allowed; empty
    when it is. Only solicitations count toward the limit (`AttemptRecord.is_solicitation`):
    inbound calls and calls at a consented appointment are never restricted, see states/calls.py."""
    if at.tzinfo is None:
        raise ValueError("the attempt time must be timezone-aware")
    previous = list(previous)
    reasons: list[str] = []
    tz = client_timezone(postal_code)
    local = at.astimezone(tz)
    consumer = kind is ClientKind.PARTICULIER
    slots = policy.consumer_slots if consumer else policy.business_slots
    if local.weekday() >= 5:
        reasons.append(f"pas d'appel le week-end ({_DAYS[local.weekday()]} {local:%d/%m/%Y})")
    if is_public_holiday(local.date(), postal_code):
        reasons.append(f"pas d'appel un jour férié ({local:%d/%m/%Y})")
    if not any(start <= local.time() < end for start, end in slots):
        who = "consommateur (D223-9)" if consumer else "professionnel"
        reasons.append(f"hors des heures d'appel {who} : {_fmt(slots)}, il est {local:%H:%M} chez le client")
    if consumer:
        too_many = solicitation_count_refusal(at, previous, tz, policy)
        if too_many:
            reasons.append(too_many)
        # A refusal, on any call (the client may say it when they ring), blocks solicitation.
        refusals = [a.at for a in previous
                    if a.channel is Channel.PHONE and a.outcome is AttemptOutcome.REFUSED and a.at <= at]
        if refusals and at - max(refusals) < timedelta(days=policy.refusal_quiet_days):
            last = max(refusals).astimezone(tz)
            until = last + timedelta(days=policy.refusal_quiet_days)
            reasons.append(f"refus le {last:%d/%m/%Y} : pas d'appel avant le {until:%d/%m/%Y} (D223-9)")
    return reasons


def next_allowed_slot(
    kind: ClientKind,
    postal_code: str | None,
    at: datetime,
    previous: Iterable[AttemptRecord],
    policy: CallingPolicy = DEFAULT_POLICY,
    horizon_days: int = 120,
) -> datetime | None:
    """The earliest moment at or after `at` when an outbound solicitation call is allowed, in the
    client's time zone; None when there is none within `horizon_days`.

    `call_refusals` is the judge: this only proposes candidates (the start of each calling slot
    of each business day, or `at` itself inside a slot) and returns the first one it accepts.
    To avoid walking day by day through a quiet period, the search starts at a lower bound that
    the consumer limits imply: 60 days after the last refusal, and the day the oldest of the
    last `max_calls` solicitations leaves every 30-day window.
    """
    if at.tzinfo is None:
        raise ValueError("the time must be timezone-aware")
    previous = list(previous)
    tz = client_timezone(postal_code)
    local = at.astimezone(tz)
    if not call_refusals(kind, postal_code, local, previous, policy):
        return local
    start = local
    if kind is ClientKind.PARTICULIER:
        refusals = [a.at for a in previous if a.channel is Channel.PHONE and a.outcome is AttemptOutcome.REFUSED
                    and a.at <= at]
        if refusals:
            start = max(start, (max(refusals) + timedelta(days=policy.refusal_quiet_days)).astimezone(tz))
        days = sorted((a.at.astimezone(tz).date() for a in previous if a.is_solicitation and a.at <= at),
                      reverse=True)
        if len(days) >= policy.max_calls:
            free = days[policy.max_calls - 1] + timedelta(days=policy.rolling_days)
            start = max(start, datetime.combine(free, time(0), tz))
    slots = policy.consumer_slots if kind is ClientKind.PARTICULIER else policy.business_slots
    first = start.date()
    for offset in range(horizon_days + 1):
        day = first + timedelta(days=offset)
        if day.weekday() >= 5 or is_public_holiday(day, postal_code):
            continue
        for begin, end in slots:
            slot_end = datetime.combine(day, end, tz)
            if slot_end <= start:
                continue
            candidate = max(datetime.combine(day, begin, tz), start)
            if not call_refusals(kind, postal_code, candidate, previous, policy):
                return candidate
    return None
