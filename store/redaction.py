"""Applying an RGPD redaction to one audit record, the only write the triggers of
store.audit_guard let through.

Within the write path's transaction: grant the record, blank its `changes` (but the lifecycle keys) and `reason`, stamp
`redacted_at`, withdraw the grant. The redaction itself is the next record of the same chain
(action "redaction", naming the seq), written by the write path like any change.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from states.errors import InvalidChange
from store.tables import AuditRecord, AuditRedactionGrant

AUDIT = AuditRecord.__table__
GRANT = AuditRedactionGrant.__table__
# What a redaction keeps: the case's own lifecycle, which holds no personal data, so `m3 audit
# verify` can still replay the state the trail leads to.
LIFECYCLE_KEYS = frozenset({"state", "case.state", "case.closing_reason"})


def blank_record(conn: Connection, case_id: int, seq: int, redacted_at: datetime) -> None:
    rec = conn.execute(select(AUDIT.c.id, AUDIT.c.action, AUDIT.c.changes, AUDIT.c.redacted_at)
                       .where(AUDIT.c.case_id == case_id, AUDIT.c.seq == seq)).first()
    if rec is None:
        raise InvalidChange({"seq": f"enregistrement {seq} introuvable dans le journal du dossier {case_id}"})
    if rec.redacted_at is not None:
        raise InvalidChange({"seq": f"enregistrement {seq} déjà effacé"})
    if rec.action == "redaction":
        raise InvalidChange({"seq": "un effacement ne s'efface pas : il prouve l'effacement"})
    conn.execute(insert(GRANT).values(record_id=rec.id))
    kept = {k: v for k, v in (rec.changes or {}).items() if k in LIFECYCLE_KEYS}
    conn.execute(update(AUDIT).where(AUDIT.c.id == rec.id).values(changes=kept, reason=None, redacted_at=redacted_at))
    conn.execute(delete(GRANT).where(GRANT.c.record_id == rec.id))
