"""`column IN (the ids of a page)`, written the way each database reads it fastest.

A list of a few hundred cases reads its attempts, appointments, actions and contracts by the
list of case ids. SQLAlchemy's expanding IN sends one bound parameter per id; on PostgreSQL
the same condition as `column = ANY(:ids)` sends one array parameter instead: measured on
"Mes dossiers" at 100,000 cases (224 ids), 5.4 ms -> 2.2 ms per statement (best of 40, same
run), four statements a page. SQLite has no arrays and keeps the IN list.

    stmt = select(ATTEMPT).where(in_ids(ATTEMPT.c.case_id))
    conn.execute(stmt, {"ids": [3, 5, 8]})
"""
from __future__ import annotations

from sqlalchemy import Boolean, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class InIds(ColumnElement):
    """`column` is one of the ids bound as `name` (a list)."""

    inherit_cache = True
    type = Boolean()
    # A comparison, not a boolean value: without this, SQLAlchemy writes `(... IN (...)) = 1` on
    # SQLite (no native booleans) and SQLite then scans the table instead of using its index.
    _is_implicitly_boolean = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, column, name: str) -> None:
        self.column = column
        self.name = name


def in_ids(column, name: str = "ids") -> InIds:
    return InIds(column, name)


@compiles(InIds)
def _expanding_in(element: InIds, compiler, **kw) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(InIds, "postgresql")
def _any_array(element: InIds, compiler, **kw) -> str:
    array = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)
