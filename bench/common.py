"""What every benchmark returns: rows for the table `python -m bench.run` prints."""
from __future__ import annotations

import resource
from dataclasses import dataclass


@dataclass
class Result:
    name: str  # what was measured
    value: float
    unit: str
    target: str = ""  # e.g. "<= 1 ms"
    ok: bool | None = None  # None: no target
    note: str = ""


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
