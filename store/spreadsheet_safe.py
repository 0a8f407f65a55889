"""CSV cells that a spreadsheet will not run as formulas (CSV/formula injection, OWASP).

A text cell starting with =, +, -, @, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (`=HYPERLINK(...)`, `=cmd|...`). Such a cell gets a leading
apostrophe, the spreadsheets' own "this is text" marker. Numbers are written as numbers (a
negative premium stays -12.5); only text is touched, so nothing else in an export changes.
"""
from __future__ import annotations

import re
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed plain number (an E.164 phone "+33612345678", "-12,50") is data a spreadsheet cannot run:
# it stays as it is, so phones in exports read as phones.
_PLAIN_NUMBER = re.compile(r"[+-][0-9][0-9 .,]*")


def cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: cell(v) for k, v in values.items()}
