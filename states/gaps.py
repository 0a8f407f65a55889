"""The bilan's gap suggestions: data/gap_rules.toml evaluated against a situation and an inventory.

Pure: `suggestions(situation, inventory)` returns, for every suggestion the rules call for and
that nothing in the inventory (chez nous or ailleurs) covers yet, its stable code, the family
and product proposed, its status and its French reasons:
- "gap" (manque): a rule holds;
- "ask" (à demander): no rule holds but one depends on a situation field nobody recorded yet;
  the questions to ask come with it. Unknown never reads as "no gap".
The logic is three-valued (Kleene): a rule whose conditions are all true holds, one with a false
condition does not, any other is unknown; `any` is true as soon as one branch is.
Covers match on whole words, case and accents folded ("Multirisque Habitation" covers
habitation; "Super Protection" is no "PER").
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from states.records import Family, Held, InventoryRecord
from states.situation import Situation, has_phrase, words

FIELDS = ("kind", "children_at_home", "couple", "housing", "vehicles", "employees", "cadres", "tns")
_OPS = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "in": lambda a, b: a in b,
}


class Status(StrEnum):
    GAP = "gap"
    ASK = "ask"


STATUS_LABELS = {Status.GAP: "manque", Status.ASK: "à demander"}


@dataclass(frozen=True)
class Suggestion:
    code: str
    family: Family
    product: str
    status: Status
    reasons: tuple[str, ...]
    questions: tuple[str, ...] = ()  # what to ask the client (status "ask")

    @property
    def reason(self) -> str:
        return " ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "family": self.family.value, "product": self.product,
                "status": self.status.value, "status_label": STATUS_LABELS[self.status],
                "reason": self.reason, "reasons": list(self.reasons), "questions": list(self.questions)}


@dataclass(frozen=True)
class Rules:
    covers: dict[str, dict[str, Any]]
    suggestions: dict[str, dict[str, Any]]
    rules: tuple[dict[str, Any], ...]
    readings: dict[str, Any]  # [situation]: word lists for couple and tns
    questions: dict[str, str]
    devis_due_in_days: int


def _check_condition(cond: Any, covers: dict, where: str) -> None:
    if not isinstance(cond, dict):
        raise ValueError(f"{where}: condition {cond!r} is not a table")
    if "any" in cond:
        if not isinstance(cond["any"], list) or not cond["any"]:
            raise ValueError(f"{where}: 'any' needs a list of conditions")
        for c in cond["any"]:
            _check_condition(c, covers, where)
    elif "holds" in cond:
        if cond["holds"] not in covers:
            raise ValueError(f"{where}: unknown cover {cond['holds']!r}")
    else:
        if cond.get("field") not in FIELDS:
            raise ValueError(f"{where}: unknown field {cond.get('field')!r} (known: {', '.join(FIELDS)})")
        if cond.get("op") not in _OPS or "value" not in cond:
            raise ValueError(f"{where}: a field condition needs an op among {', '.join(_OPS)} and a value")


def parse(data: dict[str, Any]) -> Rules:
    """Check and load the rules (a broken file fails at load, naming what is wrong)."""
    covers = data.get("cover", {})
    sugg = data.get("suggestion", {})
    for code, s in sugg.items():
        if s.get("cover") not in covers:
            raise ValueError(f"suggestion {code}: unknown cover {s.get('cover')!r}")
        Family(s["family"])  # raises on an unknown family
        if not s.get("product"):
            raise ValueError(f"suggestion {code}: product missing")
    rules = tuple(data.get("rule", []))
    for i, r in enumerate(rules, 1):
        where = f"rule {i} ({r.get('suggest')})"
        if r.get("suggest") not in sugg:
            raise ValueError(f"{where}: unknown suggestion")
        if not r.get("reason"):
            raise ValueError(f"{where}: reason missing")
        for c in r.get("when", []):
            _check_condition(c, covers, where)
    for code, c in covers.items():
        for fam in c.get("families", []):
            Family(fam)
        if not c.get("families") and not c.get("match"):
            raise ValueError(f"cover {code}: neither families nor match")
    return Rules(covers, sugg, rules, data.get("situation", {}), data.get("question", {}),
                 int(data.get("devis", {}).get("due_in_days", 7)))


@lru_cache(maxsize=1)
def rules() -> Rules:
    return parse(tomllib.loads(resources.files("states").joinpath("data/gap_rules.toml").read_text("utf-8")))


def codes() -> tuple[str, ...]:
    return tuple(rules().suggestions)


def covered(cover: str, inventory: Iterable[InventoryRecord], r: Rules | None = None) -> bool:
    """Whether a line held chez nous or ailleurs gives cover `cover`."""
    c = (r or rules()).covers[cover]
    families = set(c.get("families", []))
    phrases = c.get("match", [])
    for line in inventory:
        if line.held not in (Held.CHEZ_NOUS, Held.AILLEURS):
            continue
        if line.family.value in families:
            return True
        w = words(line.product)
        if any(has_phrase(w, p) for p in phrases):
            return True
    return False


def _value(situation: Situation, name: str) -> Any:
    v = getattr(situation, name)
    return v.value if hasattr(v, "value") else v


def _eval(cond: dict, situation: Situation, inventory, r: Rules, unknown: list[str]) -> bool | None:
    if "any" in cond:
        results = [_eval(c, situation, inventory, r, unknown) for c in cond["any"]]
        if any(x is True for x in results):
            return True
        return None if any(x is None for x in results) else False
    if "holds" in cond:
        return covered(cond["holds"], inventory, r)
    v = _value(situation, cond["field"])
    if v is None:
        unknown.append(cond["field"])
        return None
    return bool(_OPS[cond["op"]](v, cond["value"]))


def _rule(rule: dict, situation: Situation, inventory, r: Rules) -> tuple[bool | None, list[str]]:
    unknown: list[str] = []
    results = [_eval(c, situation, inventory, r, unknown) for c in rule.get("when", [])]
    if any(x is False for x in results):
        return False, []
    if all(x is True for x in results):
        return True, []
    return None, unknown


def suggestions(situation: Situation, inventory: Iterable[InventoryRecord], r: Rules | None = None) -> list[Suggestion]:
    """The suggestions for this situation and inventory, in the file's order."""
    r = r or rules()
    inventory = tuple(inventory)
    out = []
    for code, s in r.suggestions.items():
        if covered(s["cover"], inventory, r):
            continue
        holding, asking, questions = [], [], []
        for rule in r.rules:
            if rule["suggest"] != code:
                continue
            result, unknown = _rule(rule, situation, inventory, r)
            if result is True:
                holding.append(rule["reason"])
            elif result is None:
                asking.append(rule["reason"])
                for name in unknown:
                    q = r.questions.get(name, f"{name} ?")
                    if q not in questions:
                        questions.append(q)
        if holding:
            out.append(Suggestion(code, Family(s["family"]), s["product"], Status.GAP, tuple(holding)))
        elif asking:
            out.append(Suggestion(code, Family(s["family"]), s["product"], Status.ASK, tuple(asking),
                                  tuple(questions)))
    return out


def devis_due(today: date, r: Rules | None = None) -> date:
    """The due date offered for the devis of an accepted suggestion."""
    return today + timedelta(days=(r or rules()).devis_due_in_days)
