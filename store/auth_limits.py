"""Failed credential checks counted in the database, so every server process sees the same counts.

A `limits` storage for its moving-window strategy, over the `auth_failure` table (migration
0011): one row per failed check, holding a sha256 of the limit's key (the username, token id or
address is never stored in clear) and the time in epoch seconds. `m3 serve --workers N`, or
several machines on one PostgreSQL, share the counters; one process's memory could not.

The clock is injectable (tests move it; the server uses the wall clock, never the simulated
`M3_TODAY` clock, whose frozen time would never let a window slide). Windows up to 24 hours:
rows older than that are pruned, and each key's own expired rows are deleted as it is hit.

Under concurrency a limit can be passed by the few checks that were already in flight when it
was reached (two processes both count 4 of 5, both record): the counts are exact, the refusal
may come one or two checks late. api/credentials.py checks again just before hashing.
"""
from __future__ import annotations

import hashlib
import itertools
import time
from typing import Callable

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from store.tables import AuthFailure

T = AuthFailure.__table__
MAX_WINDOW_S = 24 * 3600
PRUNE_EVERY = 200  # failures recorded by this process between two prunes of every key's old rows


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SqlStorage(Storage, MovingWindowSupport):
    """Moving windows of failed checks in `auth_failure` (fixed windows are not supported)."""

    STORAGE_SCHEME = None  # built directly with an engine, never from a storage URI

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.engine, self.clock = engine, clock
        self._hits = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception]:
        return DBAPIError

    # -- moving window
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now, k = self.clock(), digest(key)
        with self.engine.begin() as conn:
            held = conn.execute(select(func.count()).select_from(T).where(T.c.key == k, T.c.at > now - expiry)
                                ).scalar_one()
            if held + amount > limit:
                return False
            conn.execute(insert(T), [{"key": k, "at": now}] * amount)
            conn.execute(delete(T).where(T.c.key == k, T.c.at <= now - expiry))
            if next(self._hits) % PRUNE_EVERY == 0:
                conn.execute(delete(T).where(T.c.at <= now - MAX_WINDOW_S))
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(start of the window, entries in it): the start is the oldest of the newest `limit`
        entries, so `start + expiry` is when one more check will be allowed."""
        now = self.clock()
        with self.engine.connect() as conn:
            times = conn.execute(select(T.c.at).where(T.c.key == digest(key), T.c.at > now - expiry)
                                 .order_by(T.c.at.desc()).limit(limit)).scalars().all()
        return (times[-1], len(times)) if times else (now, 0)

    # -- the rest of the storage interface
    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(T).where(T.c.key == digest(key)))

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(delete(T)).rowcount

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
            return True
        except DBAPIError:
            return False

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("auth_failure keeps moving windows only")

    def get(self, key: str) -> int:
        raise NotImplementedError("auth_failure keeps moving windows only")

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError("auth_failure keeps moving windows only")
