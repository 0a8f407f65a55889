"""Refusals that come from the store rather than the domain rules."""
from __future__ import annotations


class CaseNotFound(LookupError):
    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id} does not exist")


class VersionConflict(Exception):
    """The case changed since the caller read it: reload, then try again."""

    def __init__(self, case_id: int, expected: int, current: int) -> None:
        self.case_id, self.expected, self.current = case_id, expected, current
        super().__init__(f"case {case_id} is at version {current}, not {expected}: reload it and try again")


class UnknownEffect(TypeError):
    """The domain asked for a write the store has no table for: a programming error, never skipped."""

    def __init__(self, effect: object) -> None:
        self.effect = effect
        super().__init__(f"the store does not know how to apply {effect!r}")
