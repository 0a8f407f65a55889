"""Who takes a case when its advisor cannot: the least-loaded active advisor of the case's agency.

The cohort's rule (flows/cohort.py), shared by the CRM import (a client moved to another agency
takes its open case along) and by an advisor's deactivation (`--spread`): load = open cases
assigned, ties by the lowest id, counting the cases the caller assigns as it goes; never an
advisor of another agency. Set-based: two queries, then picks in memory.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from store.snapshot import ADVISOR, CASE


class AdvisorPool:
    def __init__(self, conn: Connection, exclude: Iterable[int] = ()):
        excluded = set(exclude)
        rows = conn.execute(select(ADVISOR.c.id, ADVISOR.c.agency_id).where(ADVISOR.c.active)).all()
        self.agency_of = {i: a for i, a in rows if i not in excluded}
        self.loads: dict[int, int] = dict.fromkeys(self.agency_of, 0)
        for advisor_id, n in conn.execute(
                select(CASE.c.assigned_advisor_id, func.count())
                .where(CASE.c.state != "cloture", CASE.c.assigned_advisor_id.is_not(None))
                .group_by(CASE.c.assigned_advisor_id)).all():
            if advisor_id in self.loads:
                self.loads[advisor_id] = n

    def active_in(self, advisor_id: int | None, agency_id: str) -> bool:
        return advisor_id is not None and self.agency_of.get(advisor_id) == agency_id

    def take(self, advisor_id: int, moved_from: int | None = None) -> None:
        """Count one more open case for `advisor_id` (and one less for the advisor it left)."""
        if advisor_id in self.loads:
            self.loads[advisor_id] += 1
        if moved_from in self.loads:
            self.loads[moved_from] -= 1

    def pick(self, agency_id: str, moved_from: int | None = None) -> int | None:
        """The least-loaded active advisor of `agency_id`, counted as taking a case; None if none."""
        candidates = [(n, i) for i, n in self.loads.items() if self.agency_of[i] == agency_id]
        if not candidates:
            return None
        _, chosen = min(candidates)
        self.take(chosen, moved_from)
        return chosen

    def choose(self, agency_id: str, preferred: int | None, moved_from: int | None = None) -> int | None:
        """`preferred` (the client's advisor of record) when active in `agency_id`, else `pick`."""
        if self.active_in(preferred, agency_id):
            self.take(preferred, moved_from)
            return preferred
        return self.pick(agency_id, moved_from)
