"""A SIGKILLed importer leaves no parsing worker behind (issue 9, hole 6)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

CHILD = textwrap.dedent("""
    import itertools, os, sys
    from store.import_worker import in_worker

    def make():
        with open(sys.argv[1] + ".worker", "w") as fh:
            fh.write(str(os.getpid()))
        return (b"x" * 100_000 for _ in itertools.count())  # never ends: the queue fills up

    items = in_worker(make, depth=2)
    next(items)
    open(sys.argv[1], "w").write("ready")
    os.kill(os.getpid(), 9)  # the importer is SIGKILLed: no finally, no cleanup
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited and holds no memory; /proc tells it from a running process.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_import_worker__a_sigkilled_parent_takes_its_worker_with_it(tmp_path):
    flag = tmp_path / "ready"
    # Output to a file, not a pipe: an orphaned worker would hold a pipe open and hang the run.
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(flag)], cwd=Path(__file__).parents[2],
                              stdout=subprocess.DEVNULL, stderr=err, timeout=60)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "stderr").read_text()
    assert flag.read_text() == "ready"
    worker = int((tmp_path / "ready.worker").read_text())
    deadline = time.monotonic() + 30  # waiting for an event, bounded; not a timing assertion
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker), f"worker {worker} outlived its parent"
