"""Fewer cyclic garbage collections while an import runs (the writer and its parsing worker).

Why: an import allocates millions of short-lived tuples (prepared rows, the batches unmarshalled
from the worker), and CPython's collector runs a pass every 700 net allocations of containers:
a 5,000-row batch lives through dozens of passes and is scanned again in each older generation.
Measured with gc callbacks on 200,000 rows (docs/performance-import.md): 6 % of the parser's CPU
and 9 % of the writer's went to those passes; with the first threshold at 100,000, none (on the
full 1M import, where the worker frees each batch once sent, the saving is smaller: with the
upsert change of the same commit, 3–4.5 % of both processes' CPU). Nothing
an import builds is cyclic (rows are tuples of strings and numbers, freed by reference counting),
so the few cycles others make wait a little longer: memory stays bounded by the threshold.

The threshold is the process's: set on entry, restored when the last import of the process ends
(imports may run in threads of one process); a forked worker inherits it.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

IMPORT_GC_THRESHOLD = 100_000

_lock = threading.Lock()
_running = 0
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = gc.get_threshold()
            if _saved[0]:  # 0: collection off, which stays off
                gc.set_threshold(max(IMPORT_GC_THRESHOLD, _saved[0]), *_saved[1:])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_saved)
