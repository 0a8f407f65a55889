"""Secondary indexes set aside while a first import fills empty tables, and put back after.

Why: SQLite maintains every secondary index row by row; on a first import of a million
contracts the random inserts into the client-id and effective-date indexes cost more than the
rows themselves (measured: 21.7 s with the indexes, 3.8 s without plus 2.1 s to build them
afterwards, sorted). Only when the tables are empty, so nothing reads through them meanwhile.

If the process dies before putting them back, `ensure_indexes` (run with every migration
check, see store.db.get_engine) recreates whatever index the schema declares and is missing.
"""
from __future__ import annotations

from sqlalchemy import Connection, Engine, Index, Table, select


def drop_if_empty(conn: Connection, tables: list[Table]) -> list[Index]:
    """Drop the tables' secondary indexes when every table is empty; return what was dropped."""
    for table in tables:
        if conn.execute(select(1).select_from(table).limit(1)).first() is not None:
            return []
    dropped = [idx for table in tables for idx in table.indexes]
    for idx in dropped:
        idx.drop(conn, checkfirst=True)
    return dropped


def restore(conn: Connection, indexes: list[Index]) -> None:
    for idx in indexes:
        idx.create(conn, checkfirst=True)


def ensure_indexes(engine: Engine) -> None:
    """Create any index the schema declares and the database lacks (an import killed midway)."""
    from store.tables import metadata

    with engine.begin() as conn:
        # One query for the names present, then CREATE only what is missing: `create(checkfirst=True)`
        # asks the database once per index (about 50), ~0.1 s of every command that opens the engine.
        present = _index_names(conn)
        for table in metadata.sorted_tables:
            for idx in table.indexes:
                if idx.name not in present:
                    idx.create(conn, checkfirst=True)


def _index_names(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return set(conn.exec_driver_sql(sql).scalars())
