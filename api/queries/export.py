"""Right of access (RGPD art. 15): everything held on one client, as one document."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from store import audit
from store.snapshot import ACTION, ATTEMPT, CASE, CASE_CONTRACT, CLIENT, CONTRACT, INVENTORY, OUTCOME, REQUIREMENT


def _dicts(rows) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows]


def client_agency(conn: Connection, client_id: str) -> str | None:
    return conn.execute(select(CLIENT.c.agency_id).where(CLIENT.c.id == client_id)).scalar_one_or_none()


def client_export(conn: Connection, client_id: str) -> dict[str, Any] | None:
    client = conn.execute(select(CLIENT).where(CLIENT.c.id == client_id)).first()
    if client is None:
        return None
    contracts = _dicts(conn.execute(select(CONTRACT).where(CONTRACT.c.client_id == client_id).order_by(CONTRACT.c.id)))
    ids = [c["id"] for c in contracts]
    reqs = _dicts(conn.execute(select(REQUIREMENT).where(REQUIREMENT.c.contract_id.in_(ids)))) if ids else []
    cases = []
    for row in conn.execute(select(CASE).where(CASE.c.client_id == client_id).order_by(CASE.c.id)).all():
        cid = row.id

        def part(table):
            return _dicts(conn.execute(select(table).where(table.c.case_id == cid).order_by(table.c.id)))

        cases.append({
            **{k: v for k, v in row._mapping.items() if k != "audit_head"},
            "contracts": [r.contract_id for r in conn.execute(
                select(CASE_CONTRACT.c.contract_id).where(CASE_CONTRACT.c.case_id == cid))],
            "attempts": part(ATTEMPT), "inventory": part(INVENTORY), "outcomes": part(OUTCOME),
            "actions": part(ACTION), "audit": audit.trail(conn, cid),
            **_other_case_parts(conn, cid),
        })
    return {
        "client": {k: v for k, v in client._mapping.items() if k != "source_hash"},
        "contracts": [{**c, "requirements": [r for r in reqs if r["contract_id"] == c["id"]]}
                      for c in (dict(c) for c in contracts)],
        "cases": cases,
        **_client_parts(conn, client_id),
    }


# Every other table that holds rows of a case (notes, claims and questions, appointments, the
# messages sent, frozen bilans, ...) or of a client (corrections, right-of-access requests):
# found from the schema, so a table added later is in the export without touching this file.
_DONE = {"contact_attempt", "inventory_line", "bilan_outcome", "planned_action", "audit_record", "case_contract",
         "audit_redaction_grant"}


def _tables_with(column: str) -> list:
    from store.tables import metadata

    return [t for t in metadata.sorted_tables if column in t.c and t.name not in _DONE]


def _rows(conn: Connection, table, column: str, value) -> list[dict[str, Any]]:
    order = [table.c[k] for k in ("id", "seq") if k in table.c] or list(table.primary_key.columns)
    return _dicts(conn.execute(select(table).where(table.c[column] == value).order_by(*order)))


def _other_case_parts(conn: Connection, case_id: int) -> dict[str, Any]:
    return {t.name: _rows(conn, t, "case_id", case_id) for t in _tables_with("case_id") if t.name != "client_correction"}


def _client_parts(conn: Connection, client_id: str) -> dict[str, Any]:
    return {t.name: _rows(conn, t, "client_id", client_id) for t in _tables_with("client_id")
            if t.name not in ("followup_case", "contract")}
