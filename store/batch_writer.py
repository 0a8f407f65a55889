"""Writes the import's batches on a background thread, in order, one transaction each.

Why a thread: the database driver does its work (SQLite's B-tree inserts, PostgreSQL's round
trips) without holding the GIL, so writing batch N overlaps parsing batch N+1. The queue holds
at most `depth` batches, so memory stays bounded however large the file is.

The importer decides what to write from the hashes stored in the database; a batch submitted
but not yet committed is invisible there, so the importer overlays the hashes of the batches
still in flight (`in_flight`) on what it reads: see importer._Importer.stored.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine

_STOP = object()


class BatchWriter:
    def __init__(self, engine: Engine, depth: int = 1):
        self.engine = engine
        self.committed = 0  # batches committed so far (written by the thread only)
        self.submitted = 0
        self._error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="m3-import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            if self._error is None:  # after a failure, drain without writing
                try:
                    with self.engine.begin() as conn:
                        job(conn)
                    self.committed += 1
                except BaseException as exc:  # handed to the importer's thread
                    self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, job: Callable[[Connection], None]) -> int:
        """Queue a write; returns its batch number (1, 2, ...). Blocks while the queue is full."""
        self._check()
        self.submitted += 1
        self._queue.put(job)
        return self.submitted

    def close(self) -> None:
        """Wait for every queued batch; re-raise a write's failure here."""
        self._queue.put(_STOP)
        self._thread.join()
        self._check()
