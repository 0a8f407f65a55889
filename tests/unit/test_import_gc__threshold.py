"""The import raises the collector's first threshold while it runs, and gives it back."""
import gc
import threading

import pytest

from store.import_gc import IMPORT_GC_THRESHOLD, fewer_collections


@pytest.fixture(autouse=True)
def _default_threshold():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_fewer_collections__raised_inside_restored_after_even_on_error():
    with pytest.raises(RuntimeError):
        with fewer_collections():
            assert gc.get_threshold() == (IMPORT_GC_THRESHOLD, 10, 10)
            raise RuntimeError("a failed import")
    assert gc.get_threshold() == (700, 10, 10)


def test_fewer_collections__overlapping_imports_restore_once_the_last_ends():
    first_in, second_done = threading.Event(), threading.Event()

    def second():
        first_in.wait()
        with fewer_collections():
            pass
        second_done.set()

    t = threading.Thread(target=second)
    t.start()
    with fewer_collections():
        first_in.set()
        second_done.wait()
        assert gc.get_threshold()[0] == IMPORT_GC_THRESHOLD  # the other import ended: still raised
    t.join()
    assert gc.get_threshold() == (700, 10, 10)


def test_fewer_collections__collection_turned_off_stays_off():
    gc.set_threshold(0)
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0
