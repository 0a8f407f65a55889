"""Read-back helpers for integration tests: the whole state a change could touch, for one case."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from store.tables import (
    AuditRecord, BilanOutcome, Client, ContactAttempt, ContractRequirement, FollowupCase, InventoryLine,
    Notification, PlannedAction,
)

CASE = FollowupCase.__table__
AUDIT = AuditRecord.__table__


def case_dict(engine: Engine, case_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(select(CASE).where(CASE.c.id == case_id)).one()._mapping)


def audit_count(engine: Engine, case_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(AUDIT.c.case_id == case_id)).scalar_one()


def world(engine: Engine, case_id: int) -> dict[str, Any]:
    """Every row a change to `case_id` may write, in a comparable form."""
    with engine.connect() as conn:
        case = dict(conn.execute(select(CASE).where(CASE.c.id == case_id)).one()._mapping)

        def rows(table, where):
            return sorted(tuple(r) for r in conn.execute(select(table.__table__).where(where)).all())

        return {
            "case": case,
            "client": rows(Client, Client.id == case["client_id"]),
            "audit": rows(AuditRecord, AuditRecord.case_id == case_id),
            "attempts": rows(ContactAttempt, ContactAttempt.case_id == case_id),
            "inventory": rows(InventoryLine, InventoryLine.case_id == case_id),
            "outcomes": rows(BilanOutcome, BilanOutcome.case_id == case_id),
            "actions": rows(PlannedAction, PlannedAction.case_id == case_id),
            "requirements": sorted(tuple(r) for r in conn.execute(select(ContractRequirement.__table__)).all()),
            "notifications": rows(Notification, Notification.case_id == case_id),
        }
