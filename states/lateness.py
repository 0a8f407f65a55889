"""*En retard* and *rattrapé*: the one definition every list, digest and figure uses.

- **En retard** (late): the case is open, its client has not been reached yet, and its contact
  window ended before `today` (the agency's calendar day, Europe/Paris). A case reached late is
  no longer late: the advisor is working it. A closed case is never late.
- **Rattrapé** (caught up): the case was opened by the cohort's catch-up of the month before.
  A separate, stored flag (column `followup_case.late`, exposed as `caught_up`): it says how the
  case was opened, not where it stands.

The SQL form of the same rule is `store.lateness.late_clause`; a test checks that both agree.
"""
from __future__ import annotations

from datetime import date

from states.lifecycle import UNREACHED_STATES

# Open and not reached: the states a late case can be in.
LATE_STATES = UNREACHED_STATES
LATE_STATE_VALUES = tuple(s.value for s in LATE_STATES)

LATE_LABEL = "En retard"
CAUGHT_UP_LABEL = "Rattrapé"


def is_late(state: str, window_end: date, today: date) -> bool:
    return state in LATE_STATE_VALUES and window_end < today
