"""Search as a person types it: a name without accents or capitals ("helene" finds Hélène), a
phone however it is spaced ("06 12 34 56 78" finds +33612345678), a contract or case number.

`Terms.parse(q)` reads the query once; `Terms.matches(...)` says whether one case matches.
Every screen's search box uses these, so they all behave alike.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

_PHONE_CHARS = re.compile(r"^[\d\s+().\-/]+$")


def fold(text: str | None) -> str:
    """Lower case, accents removed, spaces collapsed: '  Hélène  LÉGER' -> 'helene leger'."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def phone_e164(text: str, region: str = "FR") -> str | None:
    """'06 12 34 56 78' -> '+33612345678'; None when it is not a valid number."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str | None) -> str:
    """'+33612345678' -> '0612345678' (what people type); other countries: the digits after '+'."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    return re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


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

    def matches(self, *, names: list[str | None], phone: str | None, numbers: list[str]) -> bool:
        """`names`: the client's names (any order); `numbers`: case, client and contract numbers."""
        if self.phone and phone == self.phone:
            return True
        if len(self.digits) >= 4 and phone and self.digits in national_digits(phone):
            return True
        folded_numbers = [fold(n) for n in numbers if n]
        if any(self.text == n for n in folded_numbers):
            return True
        if len(self.text) >= 3 and any(self.text in n for n in folded_numbers if not n.isdigit()):
            return True
        full = fold(" ".join(n for n in names if n))
        if not full or self.digits and not self.text.strip("0123456789 +().-/"):
            return False
        return all(word in full for word in self.text.split())
