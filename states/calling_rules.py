"""When a phone call is allowed (Code de la consommation D223-9, in force since 1 March 2023).

Consumers, existing clients included: Monday-Friday, 10:00-13:00 and 14:00-20:00 in the client's
time zone, never on public holidays, at most 4 calls or attempts per rolling 30 days, and none
for 60 days after a refusal. Professionals and companies fall outside the consumer code; we
call them in business hours (our choice, 09:00-12:30 and 13:30-18:00, business days).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
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


def call_refusals(
    kind: ClientKind,
    postal_code: str | None,
    at: datetime,
    previous: Iterable[AttemptRecord],
    policy: CallingPolicy = DEFAULT_POLICY,
) -> list[str]:
    """Every reason a phone attempt at `at` (timezone-aware) is not allowed; empty when it is."""
    if at.tzinfo is None:
        raise ValueError("the attempt time must be timezone-aware")
    reasons: list[str] = []
    local = at.astimezone(client_timezone(postal_code))
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
        calls = [a for a in previous if a.channel is Channel.PHONE]
        recent = [a for a in calls if at - timedelta(days=policy.rolling_days) < a.at <= at]
        if len(recent) >= policy.max_calls:
            reasons.append(
                f"déjà {len(recent)} appels sur {policy.rolling_days} jours glissants "
                f"(maximum {policy.max_calls}, D223-9)"
            )
        refusals = [a.at for a in calls if a.outcome is AttemptOutcome.REFUSED and a.at <= at]
        if refusals and at - max(refusals) < timedelta(days=policy.refusal_quiet_days):
            until = max(refusals) + timedelta(days=policy.refusal_quiet_days)
            reasons.append(f"refus le {max(refusals):%d/%m/%Y} : pas d'appel avant le {until:%d/%m/%Y} (D223-9)")
    return reasons
