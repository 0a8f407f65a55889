"""Writes store/tables.py (plain SQLAlchemy Core tables) from the SQLModel classes of store/models.py.

    python -m store.tables_build           # rewrite store/tables.py
    python -m store.tables_build --check   # exit 1 when store/tables.py is not what it would write

store/models.py stays the one definition of the schema; store/tables.py is derived from it so the
code can use the tables without building the classes (pydantic models, ORM mappers: 0.35-0.8 s of
every `m3` command's import, docs/performance-cli-http.md). tests/unit/test_tables__generated.py
checks that the file is current and that both give the same DDL on SQLite and PostgreSQL.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import (JSON, Boolean, Column, Date, Double, Index, Integer, Numeric, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import desc_op

from store.types import UTCDateTime

TARGET = Path(__file__).with_name("tables.py")

HEADER = '''"""The tables, as plain SQLAlchemy Core: GENERATED from store/models.py by `python -m store.tables_build`.

Do not edit: change store/models.py (the one definition, with the why of each column) and rerun the
command; tests/unit/test_tables__generated.py fails while this file is not current. Each class is
a `TableClass` (store/table_class.py): `Agency.__table__`, `Agency.name`, `select(Agency)` read as
with the SQLModel classes, without building pydantic models or ORM mappers at import.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, Double, ForeignKey, Index, Integer, MetaData, Numeric, String
from sqlalchemy import Table, Text, UniqueConstraint

from store.table_class import TableClass
from store.types import UTCDateTime

metadata = MetaData()'''


def _type(t) -> str:
    if isinstance(t, UTCDateTime):
        return "UTCDateTime()"
    if type(t).__name__ == "AutoString":  # sqlmodel's: a String on SQLite and PostgreSQL
        t = t.impl
    if isinstance(t, Text):  # before String: Text is a String
        return "Text()"
    if isinstance(t, String):
        return f"String({t.length})" if t.length else "String()"
    if isinstance(t, Numeric) and not isinstance(t, Double):
        return f"Numeric({t.precision}, {t.scale})"
    for cls in (Boolean, Integer, Date, Double, JSON):
        if isinstance(t, cls):
            return f"{cls.__name__}()"
    raise TypeError(f"no rendering for column type {t!r}: add it to store/tables_build.py")


def _column(c: Column) -> str:
    args = [repr(c.name), _type(c.type)]
    args += [f"ForeignKey({fk.target_fullname!r})" for fk in c.foreign_keys]
    if c.primary_key:
        args.append("primary_key=True")
    if c.nullable != (not c.primary_key):
        args.append(f"nullable={c.nullable}")
    if c.default is not None:
        if not c.default.is_scalar:
            raise TypeError(f"{c.table.name}.{c.name}: only scalar defaults are rendered")
        args.append(f"default={c.default.arg!r}")
    if c.server_default is not None:
        args.append(f"server_default={c.server_default.arg!r}")
    if c.index:
        args.append("index=True")
    if c.unique:
        args.append("unique=True")
    return f"    Column({', '.join(args)}),"


def _expression(var: str, e) -> str:
    if isinstance(e, UnaryExpression) and e.modifier is desc_op:
        return f"{var}.{e.element.name}.desc()"
    if isinstance(e, Column):
        return f"{var}.{e.name}"
    raise TypeError(f"no rendering for index expression {e!r}")


def _index(var: str, i: Index) -> str:
    args = [repr(i.name), *(_expression(var, e) for e in i.expressions)]
    if i.unique:
        args.append("unique=True")
    args += [f"{k}={v!r}" for k, v in sorted(i.dialect_kwargs.items())]
    suffix = "" if i._ddl_if is None else f".ddl_if(dialect={i._ddl_if.dialect!r})"  # one dialect only
    line = f"Index({', '.join(args)}){suffix}"
    if len(line) <= 120:
        return line
    return "Index(\n    " + ",\n    ".join(args) + f",\n){suffix}"


def render() -> str:
    import store.models as models
    from sqlmodel import SQLModel

    names = {cls.__table__.name: (name, cls) for name, cls in vars(models).items()
             if isinstance(cls, type) and issubclass(cls, SQLModel) and hasattr(cls, "__table__")}
    out = [HEADER]
    for table in SQLModel.metadata.tables.values():  # in the order of store/models.py
        name, cls = names[table.name]
        out += ["", "", f"class {name}(TableClass):"]
        doc = cls.__dict__.get("__doc__")
        if doc:
            out.append(f'    """{doc.strip()}"""\n')
        out.append(f"    __table__ = Table(\n        {table.name!r}, metadata,")
        out += ["    " + _column(c) for c in table.c]
        for con in sorted((c for c in table.constraints if isinstance(c, UniqueConstraint)
                           and not getattr(c, "_column_flag", False)), key=lambda c: c.name or ""):
            cols = ", ".join(repr(c.name) for c in con.columns)
            out.append(f"        UniqueConstraint({cols}, name={con.name!r}),")
        out.append("    )")
    out += ["", "", "# Indexes other than a column's own (index=True), as store/models.py declares them."]
    for table in SQLModel.metadata.tables.values():
        var = names[table.name][0]
        out += [_index(var, i) for i in sorted(table.indexes, key=lambda i: i.name) if not i._column_flag]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print("store/tables.py is not current: run python -m store.tables_build", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
