"""Which database errors mean "the database cannot be reached right now", as opposed to a bug.

The API answers those with 503 `database_unavailable` and `Retry-After` (the request may be sent
again as is), the others with 500. Kept here, beside the engine, because only the store knows
its drivers: psycopg's OperationalError is about the connection or the server (refused, closed,
admin shutdown, statement timeout), while SQLite's OperationalError also covers programming errors
("no such table"), so for SQLite only a locked or unopenable file counts.
"""
from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open database file",
                       "disk i/o error")


def is_unreachable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError):  # every pooled connection busy past pool_timeout
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        return is_unreachable(error.orig) if error.orig is not None else False
    if isinstance(error, sqlite3.OperationalError):
        return any(m in str(error).lower() for m in _SQLITE_UNAVAILABLE)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))
