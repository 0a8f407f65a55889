"""What the README says of a missed target: by how much, why, and the next step.

"By how much" is read from the row itself (its value against the limit in its target text);
"why" and "next step" are what the profiles found, kept beside the benchmark that measures the
row: a module's `WHY` maps a substring of its rows' names to that explanation, so a new miss
without one shows as unexplained instead of silently passing.
"""
from __future__ import annotations

import re

from bench.common import Result

_NUMBER = r"([0-9][0-9,]*(?:\.[0-9]+)?)"
_LIMIT = re.compile(r"(<=|>=|≤|≥)\s*" + _NUMBER)
_P99_TARGET = re.compile(r"p99\s*(?:<=|≤)\s*" + _NUMBER)
_P99_NOTE = re.compile(r"p99 " + _NUMBER)


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def shortfall(r: Result) -> str:
    """How far a missed row is from its target, in words: "1.6× the limit of 30 ms"."""
    parts = []
    m = _LIMIT.search(r.target)
    if m:
        op, limit = m.group(1), _num(m.group(2))
        if op in ("<=", "≤") and limit and r.value > limit:
            parts.append(f"{r.value / limit:.1f}× the limit ({r.value:,.3g} for ≤ {limit:g})")
        elif op in (">=", "≥") and limit and r.value < limit:
            parts.append(f"{r.value / limit:.0%} of the minimum ({r.value:,.3g} for ≥ {limit:g})")
    t99, n99 = _P99_TARGET.search(r.target), _P99_NOTE.search(r.note)
    if t99 and n99 and _num(n99.group(1)) > _num(t99.group(1)):
        parts.append(f"p99 {_num(n99.group(1)) / _num(t99.group(1)):.1f}× its limit "
                     f"({_num(n99.group(1)):,.3g} for ≤ {_num(t99.group(1)):g})")
    return "; ".join(parts) or "missed"


def why(r: Result, explanations: dict[str, str]) -> str:
    """The explanation whose key is part of the row's name (the longest such key)."""
    keys = [k for k in explanations if k in r.name]
    return explanations[max(keys, key=len)] if keys else "not explained yet: profile it (docs/)"


def lines(rows: list[tuple[str, Result]], explanations: dict[str, dict[str, str]]) -> list[str]:
    """Markdown bullets, one per missed row: `explanations` maps a benchmark's module name to its WHY."""
    out = []
    for name, r in rows:
        if r.ok is False:
            out.append(f"- **{name.removeprefix('bench_')}: {r.name.strip()}**: {shortfall(r)}. "
                       f"{why(r, explanations.get(name, {}))}")
    return out
