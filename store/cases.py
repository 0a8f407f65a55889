"""Opening cases. The monthly cohort opens them in bulk; this is the single-case form it shares.

A case's first audit record ("ouverture") is written with it, so its trail starts at creation.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import Connection, insert

from store import audit
from store.snapshot import CASE
from store.tables import CaseContract

CASE_CONTRACT = CaseContract.__table__


@dataclass(frozen=True)
class NewCase:
    client_id: str
    agency_id: str
    contract_ids: Sequence[str]
    cohort_month: str
    due_date: date
    window_start: date
    window_end: date
    assigned_advisor_id: int | None
    priority: int = 0
    late: bool = False


def opening_changes(c: NewCase) -> dict:
    return {"state": [None, "a_contacter"], "contracts": [None, list(c.contract_ids)],
            "cohort_month": [None, c.cohort_month], "due_date": [None, c.due_date.isoformat()],
            "assigned_advisor_id": [None, c.assigned_advisor_id], "priority": [None, c.priority],
            "late": [None, c.late]}


def open_cases(conn: Connection, cases: Iterable[NewCase], actor: str, now: datetime) -> list[int]:
    """Insert the cases, their contract links and first audit records; return the new ids."""
    ids = []
    for c in cases:
        case_id = conn.execute(insert(CASE).values(
            client_id=c.client_id, agency_id=c.agency_id, cohort_month=c.cohort_month, due_date=c.due_date,
            window_start=c.window_start, window_end=c.window_end, state="a_contacter",
            assigned_advisor_id=c.assigned_advisor_id, priority=c.priority, late=c.late, version=1,
            created_at=now, updated_at=now, audit_seq=0, audit_head="",
        ).returning(CASE.c.id)).scalar_one()
        conn.execute(insert(CASE_CONTRACT), [{"case_id": case_id, "contract_id": k} for k in c.contract_ids])
        rec = audit.record_values(case_id, 1, audit.GENESIS, now, actor, "ouverture", opening_changes(c), None)
        conn.execute(insert(audit.AUDIT).values(rec))
        conn.execute(CASE.update().where(CASE.c.id == case_id).values(audit_seq=1, audit_head=rec["hash"]))
        ids.append(case_id)
    return ids
