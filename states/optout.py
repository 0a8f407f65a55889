"""Oppositions: the client refuses marketing on one channel (email, letter or phone).

An opposition stops marketing on that channel; service messages (documents to return, an
appointment confirmation) still go (notifications/context.py: MARKETING_KINDS). Recording it
is idempotent for the person clicking: the second click changes nothing and says so.
"""
from __future__ import annotations

from datetime import datetime

from states.commands import RecordOpposition
from states.effects import Effects
from states.errors import InvalidChange
from states.records import CaseSnapshot, Channel

FIELDS = {Channel.EMAIL: "opposition_email", Channel.LETTER: "opposition_letter",
          Channel.PHONE: "opposition_phone"}
LABELS = {Channel.EMAIL: "par email", Channel.LETTER: "par courrier", Channel.PHONE: "par téléphone"}
ALREADY = "already_recorded"


def record_opposition(case: CaseSnapshot, cmd: RecordOpposition, now: datetime) -> Effects:
    name = FIELDS[Channel(cmd.channel)]
    if getattr(case.client, name):
        raise InvalidChange({name: ALREADY})
    fx = Effects(action="record_opposition",
                 reason=f"opposition à la prospection {LABELS[Channel(cmd.channel)]} ({cmd.source})")
    fx.client[name] = True
    fx.changes[f"client.{name}"] = [False, True]
    return fx
