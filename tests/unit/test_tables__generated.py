"""store/tables.py (Core, what the code uses) is generated from store/models.py (SQLModel, the one
definition): the file is current, and both declare the same schema: the same CREATE TABLE and
CREATE INDEX on SQLite and PostgreSQL, the same Python-side defaults, the same column types."""
from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the SQLModel tables)
from store import tables, tables_build

DIALECTS = [sqlite.dialect(), postgresql.dialect()]


def _pairs():
    core = tables.metadata.tables
    assert list(core) == list(SQLModel.metadata.tables)
    return [(SQLModel.metadata.tables[name], core[name]) for name in core]


def test_tables__the_generated_file_is_current():
    assert tables_build.render() == tables_build.TARGET.read_text(encoding="utf-8"), \
        "store/tables.py is not current: run python -m store.tables_build"


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_tables__same_ddl_as_the_sqlmodel_classes(dialect):
    for model, core in _pairs():
        assert str(CreateTable(core).compile(dialect=dialect)) == str(CreateTable(model).compile(dialect=dialect))

        def indexes(table):
            return sorted((i.name, str(CreateIndex(i).compile(dialect=dialect)),
                           None if i._ddl_if is None else i._ddl_if.dialect) for i in table.indexes)

        assert indexes(core) == indexes(model), core.name


def test_tables__same_defaults_and_types():
    for model, core in _pairs():
        for mc, cc in zip(model.c, core.c, strict=True):
            assert (cc.name, cc.primary_key, cc.nullable, bool(cc.index), bool(cc.unique)) == \
                   (mc.name, mc.primary_key, mc.nullable, bool(mc.index), bool(mc.unique))
            assert (cc.default.arg if cc.default is not None else None) == \
                   (mc.default.arg if mc.default is not None else None), f"{core.name}.{cc.name}"
            assert (cc.server_default.arg if cc.server_default is not None else None) == \
                   (mc.server_default.arg if mc.server_default is not None else None)
            # sqlmodel's AutoString is rendered as String (the same VARCHAR on both databases)
            assert type(cc.type).__name__ == ("String" if type(mc.type).__name__ == "AutoString"
                                              else type(mc.type).__name__), f"{core.name}.{cc.name}"


def test_tables__each_class_exposes_its_columns_like_the_sqlmodel_class():
    from sqlalchemy import select

    assert tables.Advisor.agency_id is tables.Advisor.__table__.c.agency_id
    assert str(select(tables.Advisor)) == str(select(tables.Advisor.__table__))
