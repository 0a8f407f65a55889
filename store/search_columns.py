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
    """Client rows (tuples in `columns` order) with their two keys appended.

    The import's writer calls it for every client it writes (a million-row first import: about
    650,000), so each name part is folded once per import and remembered: folding the parts
    and joining them is folding the joined names (fold is per character, then splits on
    whitespace), and a book has far fewer distinct first and last names than clients."""
    fi, li, ci, pi = (columns.index(c) for c in _SOURCE_COLUMNS)
    folded = _FOLDED
    if len(folded) > 200_000:  # bounded: company names are mostly distinct
        folded.clear()
    get = folded.get
    out = []
    for r in rows:
        first, last, company, phone = r[fi], r[li], r[ci], r[pi]
        a = get(first) if first else ""
        if a is None:
            a = folded[first] = fold(first)
        b = get(last) if last else ""
        if b is None:
            b = folded[last] = fold(last)
        c = get(company) if company else ""
        if c is None:
            c = folded[company] = fold(company)
        name = a + " " + b if a and b and not c else " ".join(x for x in (a, b, c) if x)
        if phone and len(phone) == 12 and phone[:3] == "+33" and phone[3] != "0" and phone[3:].isdigit():
            digits = "0" + phone[3:]  # national_digits' own answer for a French E.164 number, inline
        else:
            digits = national_digits(phone)
        out.append((*r, name or None, digits or None))
    return out


_FOLDED: dict[str, str] = {}
