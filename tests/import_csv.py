"""Builds small CRM export files for the import tests: a valid row by default, any column overridable."""
from __future__ import annotations

from pathlib import Path

from store.csv_source import COLUMNS, OPTIONAL_COLUMNS

BASE = dict(
    contract_id="K1", client_id="C1", client_kind="particulier", last_name="Dupont", first_name="Marie",
    company_name="", address="12 rue de la Corniche", postal_code="13007", city="Marseille",
    phone="06 12 34 56 78", email="marie.dupont@example.fr", marital_status="marié(e)",
    professional_status="salariée", siret="", naf_code="", activity="", turnover_eur="", headcount="",
    insurance_contact="", agency="Corniche", advisor="Paul Martin", seller="Paul Martin", family="IARD",
    product="Auto", effective_date="2026-01-15", premium_eur="612,40", status="active",
)


def row(**overrides) -> dict:
    unknown = set(overrides) - set(COLUMNS) - set(OPTIONAL_COLUMNS)
    assert not unknown, unknown
    return dict(BASE, **overrides)


def write_csv(path: Path, rows: list[dict], delimiter: str = ";", encoding: str = "utf-8",
              columns: tuple[str, ...] = COLUMNS) -> Path:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if delimiter in v or '"' in v or "\n" in v else v

    lines = [delimiter.join(columns)] + [delimiter.join(cell(str(r.get(c, ""))) for c in columns) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path
