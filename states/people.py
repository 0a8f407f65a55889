"""How people are named and addressed: clients (display name, civility, salutation) and advisors.

The one place for these rules: the case list, the digests, the emails, the letters and the call
script all name a client through `client_display_name`, and address one through `civility_*`.

Civility is what the CRM (or the advisor, through a correction) says: "M.", "Mme", or unknown
(None). Unknown is never guessed from a first name: a letter then opens "Madame, Monsieur,".
"""
from __future__ import annotations

import unicodedata
from enum import StrEnum


class Civility(StrEnum):
    M = "M."
    MME = "Mme"


CIVILITY_WORDS = {Civility.M: "Monsieur", Civility.MME: "Madame"}
UNKNOWN_SALUTATION = "Madame, Monsieur"

# Longest values the CRM import stores for the fields printed on letters and emails (names,
# address, contact): longer values are rejected with the row (docs/import.md), and the letter
# wraps every one of them inside its margins (tested at these limits). The API's corrections
# use the same bounds.
CLIENT_TEXT_LIMITS: dict[str, int] = {
    "last_name": 100, "first_name": 100, "company_name": 150, "address": 200, "city": 100,
    "insurance_contact": 150,
}
ADVISOR_NAME_LIMIT = 100  # first name, last name
ADVISOR_TITLE_LIMIT = 100


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_CIVILITY_INPUT = {
    "m": Civility.M, "m.": Civility.M, "mr": Civility.M, "mr.": Civility.M, "monsieur": Civility.M,
    "mme": Civility.MME, "mme.": Civility.MME, "madame": Civility.MME, "mlle": Civility.MME,
    "mlle.": Civility.MME, "mademoiselle": Civility.MME,
}


def parse_civility(raw: str | None) -> tuple[Civility | None, str | None]:
    """(civility, None) or (None, reason). Empty means unknown. 'Mlle' reads as 'Mme' (the
    administration dropped 'Mademoiselle' in 2012)."""
    if raw is None or not str(raw).strip():
        return None, None
    found = _CIVILITY_INPUT.get(_fold(str(raw)).replace(" ", ""))
    if found is None:
        return None, f"civilité inconnue : {raw!r} (attendu M., Mme ou vide)"
    return found, None


def civility_word(civility: str | None) -> str | None:
    """'Madame', 'Monsieur', or None when unknown."""
    try:
        return CIVILITY_WORDS[Civility(civility)] if civility else None
    except ValueError:
        return None


def salutation(civility: str | None) -> str:
    """How a letter opens, without its comma: 'Madame', 'Monsieur', 'Madame, Monsieur'."""
    return civility_word(civility) or UNKNOWN_SALUTATION


def person_name(first_name: str | None, last_name: str | None) -> str:
    return " ".join(p.strip() for p in (first_name, last_name) if p and p.strip())


def client_display_name(kind: str | None, first_name: str | None, last_name: str | None,
                        company_name: str | None, client_id: str | None = None) -> str:
    """The name a list shows: a company by its name, a person by first and last name."""
    if kind == "entreprise" and company_name and company_name.strip():
        return company_name.strip()
    return person_name(first_name, last_name) or (company_name or "").strip() or (client_id or "")


def addressed_name(civility: str | None, first_name: str | None, last_name: str | None) -> str:
    """How one speaks to a person: 'Madame Durand'; the full name when the civility is unknown
    ('Marie Durand'), or the last name alone when that is all there is."""
    word = civility_word(civility)
    if word and last_name and last_name.strip():
        return f"{word} {last_name.strip()}"
    return person_name(first_name, last_name)


def postal_name(civility: str | None, first_name: str | None, last_name: str | None) -> str:
    """The name on an envelope: 'Madame Marie Durand' (La Poste's order), or without civility."""
    name = person_name(first_name, last_name)
    word = civility_word(civility)
    return f"{word} {name}" if word and name else name


# ---------------------------------------------------------------- advisors
_PARTICLES = {"de", "du", "des", "d'", "le", "la", "van", "von", "der", "den", "di", "da", "del", "dos", "ben",
              "el", "al", "mac", "mc", "saint", "sainte"}


def _is_upper_word(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def split_full_name(full: str) -> tuple[str | None, str | None]:
    """'Marie Dupont' -> ('Marie', 'Dupont'): how a CRM's full name is split into first and
    last name (advisors, which the CRM names in one column).

    Rules, in order: a name written "DUPONT Marie" (last name in capitals first, as French
    forms do) is read last name first; otherwise the first word is the first name and the rest
    the last name, particles included ("Jean de La Fontaine" -> "Jean", "de La Fontaine"); a
    single word is a last name. A compound first name with a space ("Anne Marie Dupont") cannot
    be told from a two-word last name: `m3 advisors name` corrects it.
    """
    words = full.split()
    if not words:
        return None, None
    if len(words) == 1:
        return None, words[0]
    upper = 0
    while upper < len(words) and _is_upper_word(words[upper]):
        upper += 1
    if 0 < upper < len(words):
        return " ".join(words[upper:]), " ".join(words[:upper])
    return words[0], " ".join(words[1:])


def advisor_display_name(first_name: str | None, last_name: str | None, name: str | None) -> str:
    """'Margaret Hebert': first and last name when known, else the name the CRM gave."""
    return person_name(first_name, last_name) or (name or "").strip()
