"""Advisors by name, for the import: find the one the CRM names, or create it in the row's agency.

The CRM export names advisors and sellers in full ("Marie Dupont"); the advisor table keys them
by a unique name. Matching ignores case and repeated spaces so "marie  DUPONT" is not a second
person; an unknown name is created active in the agency of the row that first names it, and
reported, so the agency can move or deactivate it (`m3 advisors`). A created advisor's first
and last names are split from the full name; `name` stays what the CRM sends (the match key).
"""
from __future__ import annotations

from sqlalchemy import Connection, Engine, insert, select

from states.people import ADVISOR_NAME_LIMIT, split_full_name
from store.tables import Advisor

_T = Advisor.__table__


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


class AdvisorDirectory:
    def __init__(self, engine: Engine):
        self._engine = engine
        with engine.connect() as conn:
            self._ids = {name_key(n): i for i, n in conn.execute(select(_T.c.id, _T.c.name))}
        self._by_raw: dict[str, int] = {}  # names as written in the file: skips name_key per row
        self.created: list[tuple[str, str]] = []  # (name, agency id), in creation order

    def id_for(self, name: str | None) -> int | None:
        if not name:
            return None
        found = self._by_raw.get(name)
        if found is None:
            found = self._ids.get(name_key(name))
            if found is not None and len(self._by_raw) < 10_000:
                self._by_raw[name] = found
        return found

    def known(self, name: str) -> bool:
        return name in self._by_raw or name_key(name) in self._ids

    def ensure(self, wanted: dict[str, tuple[str, str]]) -> None:
        """Create the advisors still unknown. `wanted`: key → (name as given, agency id).

        Committed on their own, before the batch that names them: a batch that failed later
        must not leave this cache pointing at advisors rolled back with it.
        """
        missing = {k: v for k, v in wanted.items() if k not in self._ids}
        if not missing:
            return
        made: dict[str, int] = {}
        created: list[tuple[str, str]] = []
        with self._engine.begin() as conn:
            for key, (name, agency_id) in missing.items():
                made[key] = _create(conn, " ".join(name.split()), agency_id)
                created.append((" ".join(name.split()), agency_id))
        # Only once committed: a name the database refuses rolls back every one of them.
        self._ids.update(made)
        self.created.extend(created)


def _create(conn: Connection, name: str, agency_id: str) -> int:
    # The CRM gives one full name: split into first and last name for the letters and the call
    # script (states.people.split_full_name; `m3 advisors name` corrects a wrong split). The
    # title is not in the export: none until `m3 advisors title` sets it.
    first, last = split_full_name(name)
    return conn.execute(insert(_T).values(name=name, agency_id=agency_id, active=True,
                                          first_name=first[:ADVISOR_NAME_LIMIT] if first else None,
                                          last_name=last[:ADVISOR_NAME_LIMIT] if last else None)
                        .returning(_T.c.id)).scalar_one()
