"""What a decision asks the store to write, as typed records.

The domain never names a table: it says "a new contact attempt" (`Insert(Row.ATTEMPT, ...)`) and
the store maps each `Row` to its table. An effect the store does not know (a `Row` it has no
table for, or an effect of another type) fails loudly in store.write_path, never silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Row(StrEnum):
    """The kinds of row a change on a case may add or update, besides the case and its client."""

    ATTEMPT = "attempt"
    INVENTORY = "inventory"
    OUTCOME = "outcome"
    ACTION = "action"
    REQUIREMENT = "requirement"  # key: (contract_id, code); an upsert
    AUDIT_REDACTION = "audit_redaction"  # key: the seq of the case's audit record to blank
    APPOINTMENT = "appointment"  # key: the appointment's id (within the case)
    NOTE = "note"  # insert only: a note is never edited
    TOPIC = "topic"  # a claim or question; key: its id (within the case)
    # A CRM field of the case's client corrected (states.corrections); key: the field. An upsert
    # of client_correction on (client, field) that keeps the first crm_value_before.
    CORRECTION = "correction"
    LETTER = "letter"  # a postal letter of the case (outbox row); key: its id. Update only (posted_on)
    # The bilan (states/bilan.py): the advisor's decision on a gap suggestion, key: its code;
    # the frozen bilan record, key: its seq within the case (only its sending marks may change).
    DECISION = "decision"
    BILAN_RECORD = "bilan_record"
    # A contract joining the case (states/joins.py, the cohort): insert only, {"contract_id": ...}.
    CASE_CONTRACT = "case_contract"


@dataclass(frozen=True)
class Insert:
    row: Row
    values: dict[str, Any]
    ref: str | None = None  # name this row so later values of the same change can use its id: Ref(ref)


@dataclass(frozen=True)
class Ref:
    """A value only the store knows when it applies the change: the id of a row inserted earlier
    in the same change (`Insert(..., ref="outcome")`, then `Ref("outcome")`), or ACTOR / AUDIT_SEQ.
    The write path resolves it wherever it appears: insert and update values, notification
    payloads and the audit changes (which then name the new ids)."""

    name: str


ACTOR = Ref("@actor")  # who makes the change ("user:marie")
AUDIT_SEQ = Ref("@audit_seq")  # the seq of the change's own audit record


@dataclass(frozen=True)
class Update:
    row: Row
    key: Any  # the row's id within the case (or the composite key the Row documents)
    values: dict[str, Any]


@dataclass(frozen=True)
class Notify:
    """A message to enqueue with a payload of its own (the write path adds `audit_seq`). A plain
    string in `Effects.notifications` is a kind with no payload."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Effects:
    action: str  # what the audit record calls this change
    case: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)
    inserts: list[Insert] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [before, after]
    reason: str | None = None
    notifications: list[str | Notify] = field(default_factory=list)  # kinds of message to enqueue
