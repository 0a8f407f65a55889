"""Reading the bilan: the situation and suggestions of a case, its frozen records and their PDF."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from notifications import bilan_pdf
from notifications.context import agency_info
from states import bilan, gaps
from states.records import CaseSnapshot
from states.situation import LABELS
from store.snapshot import BILAN_RECORD, case_row, snapshot

_META = (BILAN_RECORD.c.seq, BILAN_RECORD.c.made_at, BILAN_RECORD.c.actor, BILAN_RECORD.c.audit_seq,
         BILAN_RECORD.c.content_sha256, BILAN_RECORD.c.sent_at, BILAN_RECORD.c.sent_to)


def situation_view(snap: CaseSnapshot) -> dict[str, Any]:
    """Each situation field the rules read, its value (None: à demander) and its French label."""
    s = bilan.situation(snap).as_dict()
    return {"kind": s.pop("kind"),
            "fields": [{"field": k, "label": LABELS[k], "value": v, "known": v is not None} for k, v in s.items()]}


def bilan_view(conn: Connection, snap: CaseSnapshot) -> dict[str, Any]:
    """What the case detail shows of the bilan: situation, suggestions with decisions, records."""
    return {"situation": situation_view(snap), "suggestions": bilan.suggestions_view(snap),
            "devis_due_in_days": gaps.rules().devis_due_in_days, "bilans": records(conn, snap.id)}


def suggestions_of(conn: Connection, case_id: int) -> dict[str, Any] | None:
    row = case_row(conn, case_id)
    if row is None:
        return None
    snap = snapshot(conn, row, frozenset({"client", "inventory", "outcomes", "decisions"}))
    return {"situation": situation_view(snap), "suggestions": bilan.suggestions_view(snap)}


def _meta(r, case_id: int) -> dict[str, Any]:
    return {"seq": r.seq, "made_at": r.made_at, "actor": r.actor, "audit_seq": r.audit_seq,
            "content_sha256": r.content_sha256, "sent_at": r.sent_at, "sent_to": r.sent_to,
            "pdf": f"/api/cases/{case_id}/bilans/{r.seq}.pdf"}


# Built once (every case detail lists the records): building it per call cost more than running it.
_RECORDS = select(*_META).where(BILAN_RECORD.c.case_id == bindparam("case_id")).order_by(BILAN_RECORD.c.seq)


def records(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    return [_meta(r, case_id) for r in conn.execute(_RECORDS, {"case_id": case_id})]


def record(conn: Connection, case_id: int, seq: int) -> dict[str, Any] | None:
    r = conn.execute(select(*_META, BILAN_RECORD.c.content)
                     .where(BILAN_RECORD.c.case_id == case_id, BILAN_RECORD.c.seq == seq)).first()
    if r is None:
        return None
    return {**_meta(r, case_id), "content": r.content}


def pdf(conn: Connection, case_id: int, seq: int) -> bytes | None:
    """The record's PDF, on its agency's letterhead (rendered from the frozen content)."""
    r = record(conn, case_id, seq)
    if r is None:
        return None
    return bilan_pdf.build(r["content"], agency_info(r["content"].get("agency_id")))
