"""Run an iterator in a forked worker process and yield its items here, through a bounded queue.

Why a process: the import is CPU-bound Python on both sides (parsing in the worker, the
writer's bookkeeping and the sqlite3 driver here), and a thread would share the GIL — tried,
no gain (see store.importer). Why 'fork': the worker inherits the opened CSV source and the
parser's tables without pickling them, and starts in milliseconds. The worker touches no
database connection (it only runs the iterator) and leaves through os._exit, as multiprocessing
does for forked children, so connections inherited from the parent are never used or closed.

Memory: at most `depth` items wait in the queue, so the worker stays a few batches ahead and
memory does not grow with the file. An exception in the worker is sent along and re-raised
here, in order; if the consumer stops early (an error while writing), the worker is ended.
"""
from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Iterator

_DONE = "done"
_ITEM = "item"
_ERROR = "error"


def in_worker(make: Callable[[], Iterator], depth: int = 4) -> Iterator:
    """Yield what `make()` yields, computed in a forked process."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue(maxsize=depth)
    worker = ctx.Process(target=_produce, args=(make, queue), daemon=True, name="m3-import-parser")
    worker.start()
    try:
        while True:
            kind, payload = queue.get()
            if kind == _ITEM:
                yield payload
            elif kind == _ERROR:
                raise payload
            else:
                break
        worker.join()
    finally:
        if worker.is_alive():  # the consumer stopped early: the worker may be blocked on put()
            worker.kill()
            worker.join()
        queue.close()


def _produce(make: Callable[[], Iterator], queue) -> None:
    try:
        for item in make():
            queue.put((_ITEM, item))
    except BaseException as exc:  # noqa: BLE001 — every failure is the consumer's to raise
        queue.put((_ERROR, _picklable(exc)))
        return
    queue.put((_DONE, None))


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"import worker: {exc!r}")
