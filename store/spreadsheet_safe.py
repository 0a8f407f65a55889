"""CSV cells that a spreadsheet will not run as formulas (CSV/formula injection, OWASP).

A text cell starting with =, +, -, @, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (`=HYPERLINK(...)`, `=cmd|...`). Such a cell gets a leading
apostrophe, the spreadsheets' own "this is text" marker. Numbers are written as numbers (a
negative premium stays -12.5); only text is touched, so nothing else in an export changes.
"""
from __future__ import annotations

from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: cell(v) for k, v in values.items()}
