"""`INSERT ... ON CONFLICT (id) DO UPDATE` of many rows at once, on SQLite and PostgreSQL.

Why not only `conn.execute(stmt, rows)`: on SQLite, SQLAlchemy's per-row parameter handling
costs about as much as the import's parsing (measured: a quarter of a million-row import).
So on SQLite the statement is compiled once and its rows go straight to the driver's
`executemany`, with each column's own bind processor (date → text, Decimal → float) applied
as SQLAlchemy would. On PostgreSQL SQLAlchemy's "insertmanyvalues" already folds the rows into
multi-row VALUES, so the Core path is kept.
"""
from __future__ import annotations

import json
from operator import itemgetter

from sqlalchemy import Connection, Engine, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite


class Upsert:
    def __init__(self, engine: Engine, table: Table, columns: list[str], key: str = "id"):
        dialect = engine.dialect
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        stmt = insert(table)
        self.stmt = stmt.on_conflict_do_update(index_elements=[table.c[key]],
                                               set_={c: stmt.excluded[c] for c in columns if c != key})
        self.columns = columns
        self.raw = dialect.name == "sqlite"
        if self.raw:
            compiled = self.stmt.compile(dialect=dialect, column_keys=columns)
            self.sql = str(compiled)
            self.order = compiled.positiontup or []
            # Columns we do not set but that have a scalar default (the opposition flags) are
            # bound too, as SQLAlchemy would: new rows get the default, updates leave them.
            self.defaults = {}
            for c in self.order:
                if c not in columns:
                    default = table.c[c].default
                    if default is None or not default.is_scalar:
                        raise RuntimeError(f"{table.name}.{c}: no value and no scalar default")
                    self.defaults[c] = default.arg
            self.processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in self.order]

    def run(self, conn: Connection, rows: list[dict]) -> None:
        if not rows:
            return
        if not self.raw:
            conn.execute(self.stmt, rows)
            return
        if self.defaults:
            rows = [self.defaults | row for row in rows]
        get = itemgetter(*self.order)
        convert = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        params = []
        for row in rows:
            values = list(get(row))
            for i, process in convert:
                if values[i] is not None:
                    values[i] = process(values[i])
            params.append(tuple(values))
        conn.exec_driver_sql(self.sql, params)


class StoredHashes:
    """`source_hash` of the given ids, in one query. On SQLite the ids travel as one JSON
    parameter: an expanding IN of 5,000 parameters costs more to compile than to run."""

    def __init__(self, engine: Engine, table: Table):
        self.raw = engine.dialect.name == "sqlite"
        if self.raw:
            self.sql = (f'SELECT id, source_hash FROM "{table.name}" '
                        "WHERE id IN (SELECT value FROM json_each(?))")
        else:
            self.stmt = select(table.c.id, table.c.source_hash).where(
                table.c.id.in_(bindparam("ids", expanding=True)))

    def get(self, conn: Connection, ids: list[str]) -> dict[str, str | None]:
        if not ids:
            return {}
        if self.raw:
            return dict(conn.exec_driver_sql(self.sql, (json.dumps(ids),)).all())
        return dict(conn.execute(self.stmt, {"ids": ids}).all())
