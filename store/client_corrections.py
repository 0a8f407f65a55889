"""`client_correction` rows: written by the write path (Row.CORRECTION), read and dropped by the import.

One row per (client, field) corrected through the write path, holding the CRM value the first
correction replaced, so the import can tell "the CRM has not caught up" from "the CRM has a newer
value" (states.corrections). Kept queryable for the export of corrections back to the CRM
(`exported_at` NULL = not exported since the field was last corrected).
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy import ARRAY, Connection, and_, any_, bindparam, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from states.corrections import Correction
from store import driver_sql
from store.tables import ClientCorrection

CORRECTION = ClientCorrection.__table__
_KEEP_FIRST_BEFORE = ("corrected_value", "corrected_at", "case_id", "audit_seq", "exported_at")


def _upsert_statement(dialect: str):
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(CORRECTION)
    stmt = ins.values({c.name: bindparam(c.name) for c in CORRECTION.c})
    # Corrected again: the CRM still holds the value of before the *first* correction.
    return stmt.on_conflict_do_update(index_elements=[CORRECTION.c.client_id, CORRECTION.c.field],
                                      set_={c: stmt.excluded[c] for c in _KEEP_FIRST_BEFORE})


_UPSERTS = {d: _upsert_statement(d) for d in ("postgresql", "sqlite")}


def upsert(conn: Connection, client_id: str, case_id: int, audit_seq: int, field: str,
           values: dict[str, Any]) -> None:
    """A correction of `field`, made by audit record `audit_seq` of case `case_id`."""
    # On the driver's cursor (store/driver_sql.py): a dialect insert() has no cache key in
    # SQLAlchemy 2.0, so conn.execute compiled this upsert again on every correction.
    driver_sql.execute(conn, _UPSERTS[conn.dialect.name], {
        "client_id": client_id, "field": field, "crm_value_before": values["crm_value_before"],
        "corrected_value": values["corrected_value"], "corrected_at": values["corrected_at"],
        "case_id": case_id, "audit_seq": audit_seq, "exported_at": None})


def ids_in(conn: Connection, column, ids: list) -> tuple[Any, dict[str, Any]]:
    """(`column IN ids` as one parameter, its parameters): a JSON list on SQLite (an expanding IN
    of thousands of parameters costs more to compile than to run), an array on PostgreSQL."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("ids", type_=ARRAY(column.type))), {"ids": list(ids)}
    return (column.in_(select(literal_column("value")).select_from(func.json_each(bindparam("ids")))),
            {"ids": json.dumps(list(ids))})


def for_clients(conn: Connection, client_ids: list[str]) -> dict[str, dict[str, Correction]]:
    """{client id: {field: correction}} for those of `client_ids` that have corrections."""
    if not client_ids:
        return {}
    where, params = ids_in(conn, CORRECTION.c.client_id, client_ids)
    rows = conn.execute(select(CORRECTION.c.client_id, CORRECTION.c.field, CORRECTION.c.crm_value_before,
                               CORRECTION.c.corrected_value, CORRECTION.c.case_id).where(where), params).all()
    out: dict[str, dict[str, Correction]] = {}
    for client_id, field, before, corrected, case_id in rows:
        out.setdefault(client_id, {})[field] = Correction(field, before, corrected, case_id)
    return out


_DROP = delete(CORRECTION).where(and_(CORRECTION.c.client_id == bindparam("c"), CORRECTION.c.field == bindparam("f")))


def drop(conn: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """Delete the corrections (client id, field) the CRM has caught up with or overtaken."""
    params = [{"c": c, "f": f} for c, f in pairs]
    if params:
        conn.execute(_DROP, params)
