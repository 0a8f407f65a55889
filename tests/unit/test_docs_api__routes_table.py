"""docs/api.md's routes table is the one generated from the app's OpenAPI.

Regenerate it with `python -m api.openapi_table --write` when a route changes.
"""
from __future__ import annotations

import pytest

from api import openapi_table as t


@pytest.fixture(scope="module")
def generated() -> str:
    return t.table(t.schema())


def test_docs_api__routes_table_equals_the_generated_one(generated):
    found = t.table_in(t.DOC.read_text(encoding="utf-8"))
    assert found is not None, f"docs/api.md needs the markers {t.START} and {t.END}"
    assert found == generated, "docs/api.md's routes table is stale: run `python -m api.openapi_table --write`"


def test_docs_api__routes_table_lists_every_operation_with_its_roles(generated):
    schema = t.schema()
    rows = generated.splitlines()[2:]
    assert len(rows) == sum(len(item) for item in schema["paths"].values())
    for needle in ("`recordAttempt`", "`bookAppointment`", "`addNote`", "`addTopic`", "`getCallScript`",
                   "`getBilanPdf`", "`acceptSuggestion`"):
        assert any(needle in row for row in rows), needle
    stats = next(row for row in rows if "`getStats`" in row)
    assert "manager*, admin (`stats.read`)" in stats and "advisor" not in stats


def test_docs_api__a_stale_or_missing_table_is_told_apart(generated):
    doc = f"# x\n{t.START}\n{generated}{t.END}\n"
    assert t.table_in(doc) == generated
    assert t.table_in(doc.replace("`getCase`", "`getOne`")) != generated
    assert t.table_in(generated) is None
    assert t.table_in(t.replaced(f"{t.START}\nold\n{t.END}", generated)) == generated
