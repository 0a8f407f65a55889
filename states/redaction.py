"""Deciding an RGPD redaction of one audit record (erasure, retention): pure, like every decision.

The content goes (what was changed, the reason written), the record's place stays: its seq, time,
actor, action and hashes, so the chain still links and the hash of what was removed remains.
"""
from __future__ import annotations

from datetime import datetime

from states.commands import RedactAuditRecord
from states.effects import Effects, Row, Update
from states.errors import InvalidChange
from states.records import CaseSnapshot


def decide_redaction(case: CaseSnapshot, cmd: RedactAuditRecord, now: datetime) -> Effects:
    errors = {}
    if not (cmd.reason or "").strip():
        errors["reason"] = "une effacement doit être motivé (demande RGPD, durée de conservation échue)"
    if not 1 <= cmd.seq <= case.audit_seq:
        errors["seq"] = f"enregistrement {cmd.seq} inexistant (le journal en compte {case.audit_seq})"
    if errors:
        raise InvalidChange(errors)
    fx = Effects(action="redaction", reason=cmd.reason.strip())
    fx.updates.append(Update(Row.AUDIT_REDACTION, cmd.seq, {"redacted_at": now}))
    fx.changes["redacted"] = [None, {"seq": cmd.seq}]
    return fx
