"""`INSERT ... ON CONFLICT (id) DO UPDATE` of many rows at once, on SQLite and PostgreSQL.

Why not only `conn.execute(stmt, rows)`: on SQLite, SQLAlchemy's per-row parameter handling
costs about as much as the import's parsing (measured: a quarter of a million-row import).
So on SQLite the statement is compiled once and its rows go straight to the driver's
`executemany`, as tuples already holding the driver's values (date → ISO text, Decimal →
float, as SQLAlchemy's bind processors would: converting them here, per row, cost ~3 µs),
and its parameters in the rows' own column order, so no row is rebuilt to match the table's.
On PostgreSQL SQLAlchemy's "insertmanyvalues" already folds the rows into multi-row VALUES,
so the Core path is kept.
"""
from __future__ import annotations

import json

from sqlalchemy import Connection, Engine, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite


class Upsert:
    def __init__(self, engine: Engine, table: Table, columns: list[str], key: str = "id"):
        dialect = engine.dialect
        self.columns = columns
        self.raw = dialect.name == "sqlite"
        if self.raw:
            self.sql = _sqlite_upsert(table, columns, key)
        else:
            stmt = postgresql.insert(table) if dialect.name == "postgresql" else sqlite.insert(table)
            self.stmt = stmt.on_conflict_do_update(index_elements=[table.c[key]],
                                                   set_={c: stmt.excluded[c] for c in columns if c != key})

    def run(self, conn: Connection, rows: list[tuple]) -> None:
        """Rows as tuples in `columns` order. On SQLite their values must already be what the
        driver takes (dates as ISO text, amounts as floats: what SQLAlchemy's bind processors
        make of them); store.import_prepare builds them so."""
        if not rows:
            return
        if self.raw:
            conn.exec_driver_sql(self.sql, rows)
        else:
            columns = self.columns
            conn.execute(self.stmt, [dict(zip(columns, row)) for row in rows])


def _sqlite_upsert(table: Table, columns: list[str], key: str) -> str:
    """The upsert's SQL for rows in `columns` order (SQLAlchemy's compiled statement takes its
    parameters in the table's column order: putting each client and contract row in that order
    first cost ~0.65 µs per row of the file, ~3 % of the writer, docs/performance-import.md).

    Columns it does not set but that have a scalar default (the opposition flags) get it as a
    literal: new rows take it, updates leave the stored value alone."""
    unknown = [c for c in columns if c not in table.c]
    if unknown or key not in columns:
        raise RuntimeError(f"{table.name}: unexpected columns {unknown or [key]}")
    names, values = [f'"{c}"' for c in columns], ["?"] * len(columns)
    for col in table.c:
        if col.name not in columns and col.default is not None and col.default.is_scalar:
            if not isinstance(col.default.arg, (bool, int)):
                raise RuntimeError(f"{table.name}.{col.name}: default {col.default.arg!r} not supported")
            names.append(f'"{col.name}"')
            values.append(str(int(col.default.arg)))
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != key)
    return (f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({", ".join(values)}) '
            f'ON CONFLICT ("{key}") DO UPDATE SET {updates}')


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
