"""An effect the store does not know fails loudly and writes nothing (architecture, principle 2)."""
from __future__ import annotations

import pytest

import store.write_path as write_path
from states.commands import SetNothingElsewhere
from states.effects import Effects, Insert, Row
from store.errors import UnknownEffect
from tests import factories as f
from tests.integration.db_helpers import audit_count, case_dict


@pytest.mark.parametrize("effect", [("inventory_line", {"product": "x"}), object()], ids=["tuple", "object"])
def test_write_path__an_insert_of_unknown_type_fails_and_writes_nothing(engine, now, monkeypatch, effect):
    with engine.begin() as conn:
        case_id, adv, _, _ = f.ready_case(conn)
    before = audit_count(engine, case_id)
    monkeypatch.setattr(write_path, "decide", lambda case, cmd, at: Effects("x", inserts=[effect]))
    with pytest.raises(UnknownEffect):
        write_path.execute(engine, case_id, 1, SetNothingElsewhere(True), "advisor:1", now)
    assert audit_count(engine, case_id) == before
    assert case_dict(engine, case_id)["version"] == 1


def test_write_path__a_row_kind_without_a_table_fails_and_writes_nothing(engine, now, monkeypatch):
    with engine.begin() as conn:
        case_id, adv, _, _ = f.ready_case(conn)
    monkeypatch.setattr(write_path, "_INSERT_TABLES", {k: v for k, v in write_path._INSERT_TABLES.items()
                                                       if k is not Row.OUTCOME})
    monkeypatch.setattr(write_path, "decide",
                        lambda case, cmd, at: Effects("x", inserts=[Insert(Row.OUTCOME, {"kind": "satisfied"})]))
    with pytest.raises(UnknownEffect):
        write_path.execute(engine, case_id, 1, SetNothingElsewhere(True), "advisor:1", now)
    assert case_dict(engine, case_id)["version"] == 1
