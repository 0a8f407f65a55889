"""Search as a person types it: a name without accents or capitals ("helene" finds Hélène), a
phone however it is spaced ("06 12 34 56 78" finds +33612345678), a contract or case number.

`Terms.parse(q)` reads the query once. `Terms.matches(...)` says whether one case matches (the
rule, in Python); the `*_clauses` methods say the same in SQL, over the folded keys the store
keeps on every client (`client.search_name`, `client.search_phone`: states/search.py,
store/search_columns.py), so a search reads only the rows it finds. Every screen's search box
uses these, so they all behave alike; a test checks that the SQL and the Python rule agree
(tests/integration/test_search__sql_matches_rule.py).

The rule: the query matches
- a phone: the whole number (any spacing, +33 or 0), or 4+ of its digits in a row;
- names: every word of the query is in the client's folded names (first, last, company), in
  any order ("hel" finds Hélène), unless the query is only a phone-like run of digits;
- numbers (a query with a digit): the case number exactly; a client or contract number
  exactly (any case), or a part of it of 3+ characters ("2026-001" finds K-2026-001).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select

from states.search import fold, national_digits, phone_e164  # noqa: F401  (the one place)
from store.snapshot import CASE, CASE_CONTRACT, CLIENT

_PHONE_CHARS = re.compile(r"^[\d\s+().\-/]+$")
_MAX_CASE_ID = 2_147_483_647


def _contains(column, text: str):
    """`column` contains `text` (LIKE, with the user's % and _ taken literally)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


@dataclass(frozen=True)
class Terms:
    raw: str
    text: str  # folded
    phone: str | None  # E.164 when the query is a whole phone number
    digits: str  # the query's digits when it looks like (part of) a phone or a number

    @classmethod
    def parse(cls, q: str | None) -> "Terms | None":
        raw = (q or "").strip()[:100]
        if not raw:
            return None
        digits = re.sub(r"\D", "", raw) if _PHONE_CHARS.match(raw) else ""
        phone = phone_e164(raw) if len(digits) >= 9 else None
        return cls(raw, fold(raw), phone, digits)

    @property
    def phone_digits(self) -> str:
        """The digits as dialled in France: '+33 6 12 34' -> '0612 34' -> '061234'."""
        if self.raw.startswith("+33") and self.digits.startswith("33"):
            return "0" + self.digits[2:]
        return self.digits

    @property
    def names_apply(self) -> bool:
        """A phone-like run of digits is never looked for in names."""
        return not (self.digits and not self.text.strip("0123456789 +().-/"))

    @property
    def number_like(self) -> bool:
        """Numbers (case, client, contract) all have a digit: a query without one is not looked for in them."""
        return any(c.isdigit() for c in self.text)

    @property
    def number_part(self) -> bool:
        """Long enough, and with a digit, to be looked for inside client and contract numbers."""
        return len(self.text) >= 3 and self.number_like

    def matches(self, *, names: list[str | None], phone: str | None, numbers: list[str]) -> bool:
        """`names`: the client's names (any order); `numbers`: the case, client and contract
        numbers (one made of digits only, as a case number, matches exactly)."""
        nd = national_digits(phone)
        if self.phone and phone and nd == national_digits(self.phone):
            return True
        if len(self.phone_digits) >= 4 and self.phone_digits in nd:
            return True
        folded_numbers = [fold(n) for n in numbers if n]
        if self.number_like and any(self.text == n for n in folded_numbers):
            return True
        if self.number_part and any(self.text in n for n in folded_numbers if not n.isdigit()):
            return True
        if not self.names_apply:
            return False
        full = fold(" ".join(n for n in names if n))  # what states.search.name_key stores
        return bool(full) and all(word in full for word in self.text.split())

    # ------------------------------------------------------------------ the same rule in SQL
    def phone_clauses(self, client=CLIENT) -> list:
        """OR-terms over a client's stored phone key: the whole number, or a run of its digits."""
        out = []
        if self.phone:
            out.append(client.c.search_phone == national_digits(self.phone))
        if len(self.phone_digits) >= 4:
            out.append(_contains(client.c.search_phone, self.phone_digits))
        return out

    def name_clause(self, client=CLIENT):
        """Every word in the client's stored name key; None when the query is not looked for in names."""
        words = self.text.split() if self.names_apply else []
        return and_(*(_contains(client.c.search_name, w) for w in words)) if words else None

    def client_clauses(self, client=CLIENT) -> list:
        """OR-terms over a client's stored keys: its phone and its names."""
        name = self.name_clause(client)
        return self.phone_clauses(client) + ([name] if name is not None else [])

    def case_number_clauses(self, case=CASE) -> list:
        """OR-terms over a case's own numbers: its number, its client's, its contracts'."""
        if not self.number_like:
            return []
        out = []
        if self.text.isdigit() and int(self.text) <= _MAX_CASE_ID:
            out.append(case.c.id == int(self.text))
        out.append(func.lower(case.c.client_id) == self.text)
        links = select(1).where(CASE_CONTRACT.c.case_id == case.c.id)
        out.append(exists(links.where(func.lower(CASE_CONTRACT.c.contract_id) == self.text)))
        if self.number_part:
            out.append(_contains(func.lower(case.c.client_id), self.text))
            out.append(exists(links.where(_contains(func.lower(CASE_CONTRACT.c.contract_id), self.text))))
        return out
