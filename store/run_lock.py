"""One run at a time for the batch jobs that must not overlap (the cohort).

On PostgreSQL, a transaction-scoped advisory lock: a second run waits for the first to commit, and
then, since each statement of the read-committed transaction sees what was committed before it
started, plans against the first run's cases and creates nothing twice (without the lock both
planned the same cases and the loser died on a UniqueViolation). On SQLite the write transaction
(`BEGIN IMMEDIATE`) already admits one writer at a time, so there is nothing to add.
"""
from __future__ import annotations

import logging
import zlib

from sqlalchemy import Connection, text

log = logging.getLogger("m3.run_lock")


def lock_key(name: str) -> int:
    return zlib.crc32(f"suivi-m3:{name}".encode())  # a stable 32-bit key: fits pg's bigint lock space


def hold(conn: Connection, name: str) -> bool:
    """Take the lock `name` for the rest of the transaction; True when another run held it first."""
    if conn.dialect.name != "postgresql":
        return False
    key = lock_key(name)
    if conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar():
        return False
    log.warning("%s: another run holds the lock, waiting for it to finish", name)
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    return True
