"""store.id_lists.in_ids: the same rows as an IN list on both databases, whatever the number of
ids (none, one, many, repeated, across SQLAlchemy's statement cache), written as one array
parameter on PostgreSQL and an IN list on SQLite."""
from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from store.id_lists import in_ids

META = MetaData()
ITEM = Table("m3_test_in_ids", META, Column("id", Integer, primary_key=True), Column("label", String(8)))
STMT = select(ITEM.c.id).where(in_ids(ITEM.c.id)).order_by(ITEM.c.id)


def test_id_lists__in_ids_reads_the_rows_an_in_list_reads(engine):
    META.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(ITEM), [{"id": i, "label": f"n{i}"} for i in range(1, 301)])
        with engine.connect() as conn:
            for ids in ([], [7], [3, 1, 2], [5, 5, 9], list(range(50, 300, 2)), [1000]):
                got = conn.execute(STMT, {"ids": ids}).scalars().all()
                assert got == sorted(set(i for i in ids if 1 <= i <= 300)), ids
    finally:
        META.drop_all(engine)


def test_id_lists__one_array_parameter_on_postgresql_an_in_list_on_sqlite():
    pg = str(STMT.compile(dialect=postgresql.dialect()))
    lite = str(STMT.compile(dialect=sqlite.dialect()))
    assert "= ANY (%(ids)s::INTEGER[])" in pg
    assert "IN (__[POSTCOMPILE_ids])" in lite
    assert "= 1" not in lite  # a comparison, not a boolean compared to 1 (which loses the index)


def test_id_lists__sqlite_reads_the_rows_through_the_index(sqlite_engine):
    sent = []
    listen = lambda conn, cur, stmt, params, ctx, many: sent.append((stmt, params))  # noqa: E731
    META.create_all(sqlite_engine)
    event.listen(sqlite_engine, "before_cursor_execute", listen)
    try:
        with sqlite_engine.connect() as conn:
            conn.execute(STMT, {"ids": [1, 2, 3]}).all()
            stmt, params = sent[-1]
            plan = " ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {stmt}", params))
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", listen)
        META.drop_all(sqlite_engine)
    assert "SEARCH" in plan and "SCAN" not in plan, plan
