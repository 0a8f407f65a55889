"""Notes, claims and questions of a case, as the API and the pages show them."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from states.notes import TOPIC_KIND_LABELS, TOPIC_STATUS_LABELS
from states.records import TopicKind, TopicStatus
from store.snapshot import NOTE


# Built once: building the statement and its cache key on every case detail cost more than
# running it (docs/performance-case-detail.md).
_NOTES = (select(NOTE.c.id, NOTE.c.text, NOTE.c.author, NOTE.c.created_at)
          .where(NOTE.c.case_id == bindparam("case_id")).order_by(NOTE.c.created_at.desc(), NOTE.c.id.desc()))


def notes_of(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """Newest first."""
    return [dict(r._mapping) for r in conn.execute(_NOTES, {"case_id": case_id})]


def topic_views(rows) -> list[dict[str, Any]]:
    """Topic rows (in the order given) with their French labels."""
    return [{**{k: v for k, v in r._mapping.items() if k != "case_id"},
             "kind_label": TOPIC_KIND_LABELS[TopicKind(r.kind)],
             "status_label": TOPIC_STATUS_LABELS[TopicStatus(r.status)]} for r in rows]
