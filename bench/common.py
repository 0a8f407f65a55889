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
