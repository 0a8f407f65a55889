"""The way back to the CRM: the client corrections made in Suivi M+3 since the last export, as a
CSV in the CRM's own columns, so Lagon (the system of record) catches up.

What is exported: every client with at least one `client_correction` row not yet exported
(`exported_at` NULL; a field corrected again after an export is exported again). One line per
client, with the CRM's client columns in the export's order and names (store/csv_source.py:
`client_id, client_kind, last_name, ... agency, advisor`), each holding the value Suivi M+3 has
*now*: a whole client record, so an empty cell means "empty", never "unchanged". The agency is
written by name (Corniche, Rouvière) and the advisor by name, as the CRM writes them; amounts
as `250000.00`. Cells a spreadsheet would run as formulas get a leading apostrophe
(store/spreadsheet_safe.py). UTF-8 with a BOM and `;`, as the CRM's own export.

Exporting marks the rows exported (`exported_at` = the export's time) in the same transaction
that reads them: two managers exporting at once get disjoint files. The corrections stay: the
import still keeps a corrected value while the CRM sends the old one (states/corrections.py).
A past export can be downloaded again (by its time) without marking anything.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from states.corrections import LABELS
from store import spreadsheet_safe
from store.snapshot import ADVISOR, CLIENT
from store.tables import Agency, ClientCorrection

CORRECTION = ClientCorrection.__table__
AGENCY = Agency.__table__
# The CRM export's client columns (store/csv_source.py), in its order.
COLUMNS = ("client_id", "client_kind", "last_name", "first_name", "company_name", "address", "postal_code", "city",
           "phone", "email", "marital_status", "professional_status", "siret", "naf_code", "activity",
           "turnover_eur", "headcount", "insurance_contact", "agency", "advisor")
_SAME = ("last_name", "first_name", "company_name", "address", "postal_code", "city", "phone", "email",
         "marital_status", "professional_status", "siret", "naf_code", "activity", "insurance_contact")


@dataclass(frozen=True)
class PendingCorrection:
    client_id: str
    field: str
    label: str
    crm_value_before: str | None
    corrected_value: str | None
    corrected_at: datetime
    case_id: int


def _scope_clients(scope: str | None):
    stmt = select(CLIENT.c.id)
    return stmt.where(CLIENT.c.agency_id == scope) if scope is not None else stmt


def pending(conn: Connection, scope: str | None, limit: int = 500) -> tuple[list[PendingCorrection], int]:
    """The corrections not exported yet (newest first, at most `limit`), and how many clients they touch."""
    cond = [CORRECTION.c.exported_at.is_(None), CORRECTION.c.client_id.in_(_scope_clients(scope))]
    rows = conn.execute(select(CORRECTION).where(*cond)
                        .order_by(CORRECTION.c.corrected_at.desc(), CORRECTION.c.client_id).limit(limit))
    clients = conn.execute(select(func.count(func.distinct(CORRECTION.c.client_id))).where(*cond)).scalar_one()
    return [PendingCorrection(r.client_id, r.field, LABELS.get(r.field, r.field), r.crm_value_before,
                              r.corrected_value, r.corrected_at, r.case_id) for r in rows], clients


def previous_exports(conn: Connection, scope: str | None, limit: int = 10) -> list[tuple[datetime, int]]:
    """[(export time, corrections in it)], newest first."""
    rows = conn.execute(select(CORRECTION.c.exported_at, func.count())
                        .where(CORRECTION.c.exported_at.is_not(None), CORRECTION.c.client_id.in_(_scope_clients(scope)))
                        .group_by(CORRECTION.c.exported_at).order_by(CORRECTION.c.exported_at.desc()).limit(limit))
    return [(r[0], r[1]) for r in rows]


def _amount(value: Any) -> str:
    return "" if value is None else f"{value:.2f}" if not isinstance(value, str) else value


def _line(r, agency_names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"client_id": r.id, "client_kind": r.kind}
    for name in _SAME:
        out[name] = getattr(r, name) or ""
    out["turnover_eur"] = _amount(r.turnover_eur)
    out["headcount"] = "" if r.headcount is None else str(r.headcount)
    out["agency"] = agency_names.get(r.agency_id, r.agency_id)
    out["advisor"] = r.advisor_name or ""
    return spreadsheet_safe.row(out)


def _csv(conn: Connection, client_ids: list[str]) -> bytes:
    agency_names = dict(conn.execute(select(AGENCY.c.id, AGENCY.c.name)).all())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for chunk in (client_ids[i:i + 500] for i in range(0, len(client_ids), 500)):
        rows = conn.execute(select(CLIENT, ADVISOR.c.name.label("advisor_name"))
                            .outerjoin(ADVISOR, ADVISOR.c.id == CLIENT.c.advisor_id)
                            .where(CLIENT.c.id.in_(chunk)).order_by(CLIENT.c.id))
        for r in rows:
            writer.writerow(_line(r, agency_names))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class Export:
    exported_at: datetime
    clients: int
    corrections: int
    body: bytes

    @property
    def filename(self) -> str:
        return f"corrections-suivi-m3-{self.exported_at:%Y%m%d-%H%M%S}.csv"


def export(conn: Connection, scope: str | None, now: datetime) -> Export:
    """Mark every pending correction of the scope exported at `now` and return them as the CSV.
    Run it in a transaction (engine.begin()): the marking and the reading are one."""
    marked = conn.execute(update(CORRECTION)
                          .where(CORRECTION.c.exported_at.is_(None), CORRECTION.c.client_id.in_(_scope_clients(scope)))
                          .values(exported_at=now)).rowcount
    return again(conn, scope, now, corrections=marked)


def again(conn: Connection, scope: str | None, exported_at: datetime, corrections: int | None = None) -> Export:
    """The CSV of the export made at `exported_at` (nothing is marked)."""
    cond = [CORRECTION.c.exported_at == exported_at, CORRECTION.c.client_id.in_(_scope_clients(scope))]
    ids = list(conn.execute(select(CORRECTION.c.client_id).where(*cond).distinct()
                            .order_by(CORRECTION.c.client_id)).scalars())
    if corrections is None:
        corrections = conn.execute(select(func.count()).select_from(CORRECTION).where(*cond)).scalar_one()
    return Export(exported_at, len(ids), corrections, _csv(conn, ids))
