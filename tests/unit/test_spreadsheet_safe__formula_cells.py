"""CSV exports never hand a spreadsheet a formula (issue 9, hole 9)."""
from __future__ import annotations

import csv
import io

import pytest

from store import audit, spreadsheet_safe


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","clic")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_spreadsheet_safe__text_that_starts_a_formula_is_quoted(text):
    assert spreadsheet_safe.cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Hélène Durand", "", None, -12.5, 3, "a=b", "+33612345678", "-12,50"])
def test_spreadsheet_safe__other_values_are_unchanged(value):
    assert spreadsheet_safe.cell(value) == value


def test_audit_csv__a_hyperlink_in_a_changed_field_is_exported_as_text():
    records = [{"seq": 1, "at": "2026-04-15T08:30:00+00:00", "actor": "user:marie", "action": "correct_client",
                "changes": {"client.last_name": ["Durand", '=HYPERLINK("http://evil","x")']},
                "reason": "=1+1", "hash": "ab"}]
    rows = list(csv.DictReader(io.StringIO(audit.trail_csv(records))))
    assert rows[0]["after"] == '\'=HYPERLINK("http://evil","x")' and rows[0]["before"] == "Durand"
    assert rows[0]["reason"] == "'=1+1"
