"""What every benchmark returns: rows for the table `python -m bench.run` prints."""
from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Result:
    name: str  # what was measured
    value: float
    unit: str
    target: str = ""  # e.g. "<= 1 ms"
    ok: bool | None = None  # None: no target
    note: str = ""
    ratio: float | None = None  # to the raw driver minimum of the same run (the "× raw" column)


def peak_rss_mb(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def migrated_sqlite(path):
    """A fresh SQLite file with the current schema, opened with plain sqlite3 for fast seeding."""
    import sqlite3

    from store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)  # also leaves the file in WAL mode
    engine.dispose()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")  # seeding only: nothing to protect if the run dies
    return db


PG_ADMIN_URL_ENV = "M3_TEST_POSTGRES_ADMIN_URL"
PG_ADMIN_URL_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A throw-away PostgreSQL database for one benchmark: yields its SQLAlchemy URL, drops it after.

    Raises whatever connecting raises when no server answers: the caller turns that into a
    "skipped" row of the table.
    """
    import os
    import uuid

    from sqlalchemy import create_engine, text

    admin = create_engine(os.environ.get(PG_ADMIN_URL_ENV, PG_ADMIN_URL_DEFAULT), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def libpq_url(sqlalchemy_url: str) -> str:
    """The same database as a libpq URL, for psycopg used directly (the raw minimum)."""
    from sqlalchemy.engine import make_url

    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
