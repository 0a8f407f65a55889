"""Every change to a case, as a plain command. The write path takes exactly these.

`needs` names the parts of the case the decision reads, so the store loads no more than that.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from states.guards import GUARDS
from states.lifecycle import EVENTS
from states.records import (
    ActionKind, ActionStatus, AttemptOutcome, Channel, Family, Held, OutcomeKind, RequirementStatus,
)


@dataclass(frozen=True)
class Command:
    @property
    def needs(self) -> frozenset[str]:
        return frozenset()

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return ()

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class FireEvent(Command):
    event: str
    reason: str | None = None

    @property
    def needs(self) -> frozenset[str]:
        t = EVENTS.get(self.event)
        if t is None or t.guard is None:
            return frozenset()
        return GUARDS[t.guard][0] | ({"inventory", "outcomes"} if self.event == "terminer_bilan" else set())


@dataclass(frozen=True)
class CorrectClient(Command):
    changes: dict[str, Any]
    reason: str | None = None
    needs = frozenset({"client"})  # type: ignore[assignment]


@dataclass(frozen=True)
class ConfirmAssignment(Command):
    agency_id: str
    advisor_id: int
    needs = frozenset({"client"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,)


@dataclass(frozen=True)
class Reassign(Command):
    advisor_id: int
    reason: str | None = None
    needs = frozenset({"client"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,)


@dataclass(frozen=True)
class RecordAttempt(Command):
    channel: Channel
    at: datetime
    outcome: AttemptOutcome
    advisor_id: int | None = None
    needs = frozenset({"client", "attempts"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.advisor_id,) if self.advisor_id else ()


@dataclass(frozen=True)
class SetRequirement(Command):
    contract_id: str
    code: str
    status: RequirementStatus
    waiver_reason: str | None = None
    needs = frozenset({"client", "contracts"})  # type: ignore[assignment]


@dataclass(frozen=True)
class AddInventoryLine(Command):
    family: Family
    product: str
    held: Held
    insurer: str | None = None
    renewal_date: date | None = None


@dataclass(frozen=True)
class SetNothingElsewhere(Command):
    value: bool = True


@dataclass(frozen=True)
class AddOutcome(Command):
    kind: OutcomeKind
    detail: str | None = None


@dataclass(frozen=True)
class AddAction(Command):
    kind: ActionKind
    owner_id: int | None
    due_date: date | None
    label: str | None = None

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.owner_id,) if self.owner_id else ()


@dataclass(frozen=True)
class UpdateAction(Command):
    action_id: int
    status: ActionStatus | None = None
    owner_id: int | None = None
    due_date: date | None = None
    needs = frozenset({"actions"})  # type: ignore[assignment]

    @property
    def advisor_ids(self) -> tuple[int, ...]:
        return (self.owner_id,) if self.owner_id else ()


@dataclass(frozen=True)
class RedactAuditRecord(Command):
    """RGPD erasure or retention: blank one audit record's content, keeping its place in the chain.

    Allowed on a closed case (retention applies to closed files above all); audited as a record
    of its own that names the redacted one, so `m3 audit verify` can tell it from tampering."""

    seq: int
    reason: str
    allowed_when_closed = True
