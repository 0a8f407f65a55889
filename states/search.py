"""Search keys: a client's names and phone the way a person types them (pure, no database).

`fold` takes case and accents off a text ("Hélène LÉGER" -> "helene leger"); `national_digits`
gives a phone's digits as dialled in France ("+33612345678" -> "0612345678"). The store keeps
both of every client in `client.search_name` / `client.search_phone` (store/search_columns.py,
written with every change of a name or phone: the write path and the CRM import), so every
search box can look them up in SQL (api/queries/search.py) instead of folding rows in Python.
"""
from __future__ import annotations

import re
import unicodedata

_NON_DIGITS = re.compile(r"\D")


def fold(text: str | None) -> str:
    """Lower case, accents removed, spaces collapsed: '  Hélène  LÉGER' -> 'helene leger'."""
    if not text:
        return ""
    if text.isascii():  # the same result without decomposition (casefold of ASCII is lower)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def phone_e164(text: str, region: str = "FR") -> str | None:
    """'06 12 34 56 78' -> '+33612345678'; None when it is not a valid number."""
    import phonenumbers  # here, not at the top: ~0.09 s of every command that imports the write path

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_FR = re.compile(r"\+33([1-9]\d{8})")


def national_digits(e164: str | None) -> str:
    """'+33612345678' -> '0612345678' (what people type); other countries: the digits of their
    national format ('+262692123456' -> '0692123456')."""
    if not e164:
        return ""
    m = _FR.fullmatch(e164)
    if m:  # what phonenumbers' national format gives, without parsing (the import folds every row)
        return "0" + m.group(1)
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return _NON_DIGITS.sub("", e164)
    return _NON_DIGITS.sub("", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def name_key(first_name: str | None, last_name: str | None, company_name: str | None) -> str:
    """What a name search looks in: the client's names, folded, in one text."""
    return fold(" ".join(n for n in (first_name, last_name, company_name) if n))
