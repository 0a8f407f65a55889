"""Signatures and documents each contract requires, from the rules in data/requirements.toml."""
from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from states.records import ClientKind, ContractRecord, RequirementRecord, RequirementStatus


@dataclass(frozen=True)
class RequirementItem:
    contract_id: str
    code: str
    label: str
    kind: str  # "signature" or "document"
    status: RequirementStatus
    waiver_reason: str | None

    @property
    def satisfied(self) -> bool:
        return self.status in (RequirementStatus.VALIDATED, RequirementStatus.RECEIVED, RequirementStatus.WAIVED)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return tomllib.loads(resources.files("states").joinpath("data/requirements.toml").read_text("utf-8"))


def label(code: str) -> str:
    r = rules()
    return r["signatures"].get(code) or r["documents"].get(code) or code


def known_codes() -> set[str]:
    r = rules()
    return set(r["signatures"]) | set(r["documents"])


def risks_of(family: str, product: str) -> list[str]:
    folded = f" {_fold(product)} "
    found = []
    for risk in rules()["risk"]:
        if family in risk.get("families", []) or any(m in folded for m in risk["match"]):
            found.append(risk["code"])
    return found


def required_codes(contract: ContractRecord, kind: ClientKind) -> list[tuple[str, str]]:
    """[(code, 'signature'|'document')] in display order, without duplicates."""
    r = rules()
    out: list[tuple[str, str]] = [(code, "signature") for code in r["signatures"]]
    docs: list[str] = []
    by_code = {risk["code"]: risk for risk in r["risk"]}
    for risk in risks_of(contract.family.value, contract.product):
        docs.extend(by_code[risk]["documents"])
    docs.extend(r["client_kind"].get(kind.value, []))
    seen: set[str] = set()
    for code in docs:
        if code not in seen:
            seen.add(code)
            out.append((code, "document"))
    return out


def checklist(contract: ContractRecord, kind: ClientKind) -> list[RequirementItem]:
    items = []
    for code, what in required_codes(contract, kind):
        rec = contract.requirements.get(code, RequirementRecord(code))
        items.append(RequirementItem(contract.id, code, label(code), what, rec.status, rec.waiver_reason))
    return items
