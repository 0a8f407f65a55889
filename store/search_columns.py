"""The client's folded search keys (`client.search_name`, `client.search_phone`), kept by whoever
writes a client's names or phone, in the same statement as the names themselves:

- the write path (`store.write_path._apply`): a change that sets a name or the phone (a
  CorrectClient) gets the keys added to its client UPDATE, computed from the client's values
  after the change;
- the CRM import (`store.importer`): every client row it upserts carries its keys.

Derived data, never audited: the audit record says which name changed, not its folded form.
The keys are what states/search.py computes; api/queries/search.py searches them.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from states.search import fold, name_key, national_digits
from store.snapshot import CLIENT

COLUMNS = ("search_name", "search_phone")
SOURCES = frozenset({"first_name", "last_name", "company_name", "phone"})
_SOURCE_COLUMNS = ("first_name", "last_name", "company_name", "phone")
_CURRENT = select(*(CLIENT.c[c] for c in _SOURCE_COLUMNS)).where(CLIENT.c.id == bindparam("client_id"))


def keys(first_name: str | None, last_name: str | None, company_name: str | None,
         phone: str | None) -> dict[str, str | None]:
    """{search_name, search_phone} of a client with these values (None when there is nothing)."""
    return {"search_name": name_key(first_name, last_name, company_name) or None,
            "search_phone": national_digits(phone) or None}


def with_keys(conn: Connection, client_id: str, current: Any, values: dict[str, Any]) -> dict[str, Any]:
    """`values` (a client UPDATE's SET) plus the keys when it sets a name or the phone. `current`:
    the client before the change (a ClientRecord), or None to read it."""
    if SOURCES.isdisjoint(values):
        return values
    if current is None:
        row = conn.execute(_CURRENT, {"client_id": client_id}).one()
        before = dict(zip(_SOURCE_COLUMNS, row))
    else:
        before = {c: getattr(current, c) for c in _SOURCE_COLUMNS}
    after = {c: values.get(c, before[c]) for c in _SOURCE_COLUMNS}
    return {**values, **keys(**after)}


def extend_rows(columns: list[str], rows: list[tuple]) -> list[tuple]:
    """Client rows (tuples in `columns` order) with their two keys appended: what `keys` gives.

    The import calls this for every client it writes (645,000 in a million-row book), where
    `keys` cost ~9 µs a client, a sixth of the import's CPU (docs/performance-import.md). Those
    clients share a few thousand first and last names, so each name part is folded once and the
    folded parts joined: fold works character by character and then collapses spaces, so
    fold(" ".join(parts)) is " ".join of the parts' non-empty folds
    (tests/unit/test_search_columns__import_keys.py checks it on arbitrary text). ~3 µs less.
    """
    first_i, last_i, company_i, phone_i = (columns.index(c) for c in _SOURCE_COLUMNS)
    folded = _FOLDED
    if len(folded) > 200_000:  # bounded: names repeat, garbage must not grow it for ever
        folded.clear()
    out = []
    for r in rows:
        parts = []
        for name in (r[first_i], r[last_i], r[company_i]):  # name_key's order
            if name:
                f = folded.get(name)
                if f is None:
                    f = folded[name] = fold(name)
                if f:
                    parts.append(f)
        phone = r[phone_i]
        out.append((*r, " ".join(parts) or None, national_digits(phone) or None))
    return out


_FOLDED: dict[str, str] = {}  # name part -> fold(name part), for extend_rows

