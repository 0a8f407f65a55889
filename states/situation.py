"""The client's situation as the bilan's gap rules read it, and the validation of its fields.

Stored on the client (a household or a company has one situation, whatever case is open):
children at home, housing (owner, tenant, hosted), vehicles, cadres; employees are the client's
`headcount`. Two fields are read from the record: `couple` from the marital status and `tns`
(self-employed) from the professional status, with the word lists of data/gap_rules.toml.
Every field may be unknown (None): the rules then ask, they never conclude "no gap".
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from states.records import ClientKind, ClientRecord

# The client fields a correction may set for the bilan (besides headcount, already correctable).
FIELDS = ("children_at_home", "vehicles", "cadres", "housing_status")
COUNT_LIMITS = {"children_at_home": 30, "vehicles": 10_000, "cadres": 10_000_000}
HOUSING = {"owner": "propriétaire", "tenant": "locataire", "hosted": "hébergé"}
_HOUSING_WORDS = {"owner": "owner", "proprietaire": "owner", "tenant": "tenant", "locataire": "tenant",
                  "hosted": "hosted", "heberge": "hosted", "hebergee": "hosted",
                  "heberge a titre gratuit": "hosted", "hebergee a titre gratuit": "hosted"}
LABELS = {"children_at_home": "Enfants au foyer", "couple": "En couple", "housing": "Logement",
          "vehicles": "Véhicules", "employees": "Salariés", "cadres": "Cadres", "tns": "Travailleur non salarié"}


def fold(text: str) -> str:
    """Lower case, accents removed: 'Multirisque Habitation' -> 'multirisque habitation'."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


# Cached: the gap rules fold the same few phrases and product names for every suggestion of every
# case detail (13 % of its time before); the bilan's suggestions of a worked case take ~1.4× less
# (p50 0.44-0.76 ms -> 0.32-0.51 ms, docs/performance-case-detail.md).
@functools.lru_cache(maxsize=4096)
def words(text: str | None) -> tuple[str, ...]:
    """The whole words of a text, folded: "Assurance-vie d'Épargne" -> ('assurance', 'vie', 'd', 'epargne')."""
    return tuple(re.findall(r"[a-z0-9]+", fold(text or "")))


def has_phrase(haystack: tuple[str, ...], phrase: str) -> bool:
    """Whether `phrase` appears in `haystack` as whole consecutive words."""
    needle = words(phrase)
    n = len(needle)
    return n > 0 and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def _reads(text: str | None, yes: list[str], no: list[str]) -> bool | None:
    w = words(text)
    if not w:
        return None
    if any(has_phrase(w, p) for p in no):  # "gérant minoritaire" before "gérant": the exclusions first
        return False
    if any(has_phrase(w, p) for p in yes):
        return True
    return None


@dataclass(frozen=True)
class Situation:
    kind: ClientKind
    children_at_home: int | None = None
    couple: bool | None = None
    housing: str | None = None  # owner / tenant / hosted
    vehicles: int | None = None
    employees: int | None = None
    cadres: int | None = None
    tns: bool | None = None

    @classmethod
    def of(cls, client: ClientRecord, readings: dict[str, Any]) -> Situation:
        """`readings`: the [situation] table of the gap rules (word lists for couple and tns)."""
        couple = readings.get("couple", {})
        tns = readings.get("tns", {})
        return cls(
            kind=client.kind,
            children_at_home=client.children_at_home,
            couple=_reads(client.marital_status, couple.get("yes", []), couple.get("no", [])),
            housing=client.housing_status if client.housing_status in HOUSING else None,
            vehicles=client.vehicles,
            employees=client.headcount,
            cadres=client.cadres,
            tns=_reads(client.professional_status, tns.get("yes", []), tns.get("no", [])),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the case detail and the frozen bilan record."""
        return {"kind": self.kind.value, "children_at_home": self.children_at_home, "couple": self.couple,
                "housing": self.housing, "vehicles": self.vehicles, "employees": self.employees,
                "cadres": self.cadres, "tns": self.tns}


def normalise(name: str, value: Any) -> tuple[Any, str | None]:
    """(stored value, None) or (None, French reason) for a correction of a situation field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None  # back to unknown ("à demander")
    if name == "housing_status":
        code = _HOUSING_WORDS.get(" ".join(words(str(value))))
        if code is None:
            return None, "attendu : owner (propriétaire), tenant (locataire) ou hosted (hébergé)"
        return code, None
    if isinstance(value, bool):
        return None, f"nombre entier attendu : {value!r}"
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None, f"nombre entier attendu : {value!r}"
    if isinstance(value, float) and value != n:
        return None, f"nombre entier attendu : {value!r}"
    if n < 0:
        return None, "nombre négatif"
    if n > COUNT_LIMITS[name]:
        return None, f"au plus {COUNT_LIMITS[name]}"
    return n, None
