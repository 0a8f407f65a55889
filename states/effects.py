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


@dataclass(frozen=True)
class Insert:
    row: Row
    values: dict[str, Any]


@dataclass(frozen=True)
class Update:
    row: Row
    key: Any  # the row's id within the case (or the composite key the Row documents)
    values: dict[str, Any]


@dataclass
class Effects:
    action: str  # what the audit record calls this change
    case: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)
    inserts: list[Insert] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [before, after]
    reason: str | None = None
    notifications: list[str] = field(default_factory=list)  # kinds of message to enqueue
