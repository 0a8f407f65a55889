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

The worker dies with its parent: a SIGKILLed `m3 import` runs no cleanup, and its worker, blocked
on a full queue, used to stay alive (138 MB, 13 minutes later). On Linux the kernel sends it
SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG); elsewhere, and for the parent dying just
before that call, every wait on the queue is bounded and checks that the parent is still the one.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import pickle
import queue as queue_module
import signal
import sys
from collections.abc import Callable, Iterator

_DONE = "done"
_ITEM = "item"
_ERROR = "error"


def in_worker(make: Callable[[], Iterator], depth: int = 4) -> Iterator:
    """Yield what `make()` yields, computed in a forked process."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue(maxsize=depth)
    worker = ctx.Process(target=_produce, args=(make, queue, os.getpid()), daemon=True, name="m3-import-parser")
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


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PARENT_CHECK_S = 1.0  # how often a worker blocked on a full queue checks that its parent lives


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux); exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def _put(queue, item, parent_pid: int) -> None:
    while True:
        try:
            queue.put(item, timeout=_PARENT_CHECK_S)
            return
        except queue_module.Full:
            if os.getppid() != parent_pid:  # reparented: the importer is gone, nobody will read
                os._exit(1)


def _produce(make: Callable[[], Iterator], queue, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    try:
        for item in make():
            _put(queue, (_ITEM, item), parent_pid)
    except BaseException as exc:  # noqa: BLE001 — every failure is the consumer's to raise
        _put(queue, (_ERROR, _picklable(exc)), parent_pid)
        return
    _put(queue, (_DONE, None), parent_pid)


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - its kind only: a repr may quote the row being read
        return RuntimeError(f"import worker: {type(exc).__name__}")
