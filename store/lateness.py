"""The SQL form of states.lateness.is_late, for the queries that count or filter late cases."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_

from states.lateness import LATE_STATE_VALUES
from store.snapshot import CASE


def late_clause(today: date, case=CASE):
    """True for the rows of `case` (the followup_case table or an alias) that are late on `today`."""
    return and_(case.c.state.in_(LATE_STATE_VALUES), case.c.window_end < today)
