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
    """`source_hash` of the given ids, in one query per table.

    On SQLite the ids travel as one JSON parameter (an expanding IN of 5,000 parameters costs
    more to compile than to run), on a driver connection in autocommit: the engine's own
    transactions start with BEGIN IMMEDIATE, which would make this read wait for the writer.
    """

    def __init__(self, engine: Engine, tables: list[Table]):
        self.engine = engine
        self.raw = engine.dialect.name == "sqlite"
        if self.raw:
            self.sql = {t.name: f'SELECT id, source_hash FROM "{t.name}" WHERE id IN (SELECT value FROM json_each(?))'
                        for t in tables}
            self._conn = engine.raw_connection()
        else:
            self.stmt = {t.name: select(t.c.id, t.c.source_hash).where(t.c.id.in_(bindparam("ids", expanding=True)))
                         for t in tables}

    def get(self, table: Table, ids: list[str]) -> dict[str, str | None]:
        if not ids:
            return {}
        if self.raw:
            cur = self._conn.cursor()
            try:
                return dict(cur.execute(self.sql[table.name], (json.dumps(ids),)).fetchall())
            finally:
                cur.close()
        with self.engine.connect() as conn:
            return dict(conn.execute(self.stmt[table.name], {"ids": ids}).all())

    def close(self) -> None:
        if self.raw:
            self._conn.close()
