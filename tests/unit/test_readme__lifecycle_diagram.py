"""The README's lifecycle diagram is the one generated from the transition table.

Regenerate it with `m3 lifecycle` and paste it between the markers when the table changes.
"""
from __future__ import annotations

import re
from pathlib import Path

from states.lifecycle import mermaid

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- lifecycle:start -->", "<!-- lifecycle:end -->"


def diagram_in(text: str) -> str | None:
    """The ```mermaid block between the markers, or None when the markers or the block are missing."""
    section = re.search(re.escape(START) + r"(.*?)" + re.escape(END), text, re.S)
    if section is None:
        return None
    block = re.search(r"```mermaid\n(.*?)```", section.group(1), re.S)
    return block.group(1) if block else None


def test_readme__lifecycle_diagram_equals_the_generated_one():
    assert README.exists(), "README.md is missing at the repository root"
    found = diagram_in(README.read_text(encoding="utf-8"))
    assert found is not None, f"README.md needs a ```mermaid block between {START} and {END}"
    assert found == mermaid(), "README.md's lifecycle diagram is stale: paste the output of `m3 lifecycle`"


def test_readme__a_stale_or_missing_diagram_is_told_apart():
    fresh = f"# x\n{START}\n```mermaid\n{mermaid()}```\n{END}\n"
    assert diagram_in(fresh) == mermaid()
    assert diagram_in(fresh.replace("cloture --> [*]", "")) != mermaid()
    assert diagram_in(f"```mermaid\n{mermaid()}```\n") is None
