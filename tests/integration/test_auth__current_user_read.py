"""The token's user, read again on every request (api/auth.current), is one statement and nothing
else on PostgreSQL: no BEGIN before it, no ROLLBACK after it (store.db.one_statement_reads;
docs/performance-cli-http.md). On both databases it still sees a revocation at once."""
from __future__ import annotations

from sqlalchemy import event, update

from api import auth
from api.roles import Role
from store.tables import AppUser


def _user(engine, now):
    with engine.begin() as conn:
        user_id, token = auth.create_user(conn, "lecture", Role.ADMIN, None, now)
    with engine.connect() as conn:
        token_hash = conn.execute(AppUser.__table__.select().where(AppUser.id == user_id)).one().token_hash
    return user_id, token_hash


def test_auth__current_user_is_one_statement_on_postgresql(pg_engine, now):
    user_id, token_hash = _user(pg_engine, now)
    sent: list[tuple[str, bool]] = []

    def on_execute(conn, cursor, statement, *args):  # noqa: ANN001
        sent.append((statement, conn.connection.driver_connection.autocommit))

    event.listen(pg_engine, "before_cursor_execute", on_execute)
    try:
        user = auth.current(pg_engine, user_id, token_hash)
    finally:
        event.remove(pg_engine, "before_cursor_execute", on_execute)
    assert user is not None and user.id == user_id
    # One SELECT, on a connection in autocommit: psycopg sends no BEGIN before it and SQLAlchemy's
    # rollback on return has no transaction to end (three round trips before, one now).
    assert len(sent) == 1
    statement, autocommit = sent[0]
    assert statement.lstrip().upper().startswith("SELECT") and autocommit is True
    with pg_engine.connect() as conn:  # the pool hands connections back as they were: in a transaction
        conn.exec_driver_sql("SELECT 1")
        assert conn.connection.driver_connection.autocommit is False


def test_auth__current_user_sees_a_revocation_at_once(engine, now):
    user_id, token_hash = _user(engine, now)
    assert auth.current(engine, user_id, token_hash) is not None
    with engine.begin() as conn:
        conn.execute(update(AppUser.__table__).where(AppUser.id == user_id).values(active=False))
    assert auth.current(engine, user_id, token_hash) is None
