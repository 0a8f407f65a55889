"""Secondary indexes are set aside only for a first import into empty tables, and come back."""
from sqlalchemy import inspect

from store import bulk_indexes
from store.tables import Client, Contract
from tests import factories as f

TABLES = [Client.__table__, Contract.__table__]


def _index_names(engine) -> set[str]:
    insp = inspect(engine)
    return {i["name"] for t in ("client", "contract") for i in insp.get_indexes(t)}


def test_bulk_indexes__dropped_on_empty_tables_and_restored(engine):
    before = _index_names(engine)
    assert {"ix_contract_client_status_family", "ix_contract_effective_date"} <= before
    with engine.begin() as conn:
        dropped = bulk_indexes.drop_if_empty(conn, TABLES)
    assert dropped and not ({i.name for i in dropped} & _index_names(engine))
    with engine.begin() as conn:
        bulk_indexes.restore(conn, dropped)
    assert _index_names(engine) == before


def test_bulk_indexes__kept_when_a_table_holds_rows(engine):
    with engine.begin() as conn:
        f.contract(conn, f.client(conn))
        assert bulk_indexes.drop_if_empty(conn, TABLES) == []
    assert {"ix_contract_client_status_family", "ix_contract_effective_date"} <= _index_names(engine)


def test_bulk_indexes__ensure_recreates_what_a_killed_import_left_aside(engine):
    before = _index_names(engine)
    with engine.begin() as conn:
        bulk_indexes.drop_if_empty(conn, TABLES)  # and the process "dies" here
    bulk_indexes.ensure_indexes(engine)
    assert _index_names(engine) == before
