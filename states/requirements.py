"""Signatures and documents each contract requires, from the rules in data/requirements.toml.

A contract's risks come from its product's name, read against data/products.toml on whole words
(case, accents and punctuation folded); an unknown product carries no risk and asks only for the
client kind's documents ("produit non reconnu", listed by `m3 products unknown`)."""
from __future__ import annotations

import re
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


# Letters NFKD does not split (ligatures), then anything not a letter or digit separates words.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
_WORDS = re.compile(r"[^\W_]+")
UNKNOWN_PRODUCT = "produit non reconnu"


def fold_words(text: str) -> tuple[str, ...]:
    """The words of `text`, lower case, without accents: 'Complémentaire-SANTÉ' -> ('complementaire', 'sante')."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES).casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(_WORDS.findall(plain))


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return tomllib.loads(resources.files("states").joinpath("data/requirements.toml").read_text("utf-8"))


@lru_cache(maxsize=1)
def _product_names() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Folded product name -> its risks, from data/products.toml (risks in requirements.toml order)."""
    data = tomllib.loads(resources.files("states").joinpath("data/products.toml").read_text("utf-8"))
    order = [r["code"] for r in rules()["risk"]]
    names: dict[tuple[str, ...], set[str]] = {}
    for entry in data["product"]:
        unknown = set(entry["risks"]) - set(order)
        if unknown:
            raise ValueError(f"products.toml: unknown risk(s) {sorted(unknown)} (see requirements.toml)")
        for name in entry["names"]:
            names.setdefault(fold_words(name), set()).update(entry["risks"])
    return {words: tuple(r for r in order if r in risks) for words, risks in names.items() if words}


@dataclass(frozen=True)
class ProductMatch:
    product: str
    known: bool
    risks: tuple[str, ...]  # risk codes, in requirements.toml order
    names: tuple[str, ...]  # the product names of products.toml it matched (folded)

    @property
    def label(self) -> str | None:
        """'produit non reconnu' for a product to map in products.toml; None when known."""
        return None if self.known else UNKNOWN_PRODUCT


@lru_cache(maxsize=4096)
def product_match(product: str) -> ProductMatch:
    """Which products.toml names a product's words contain (whole words, side by side), and so its risks.
    A name found inside a longer name found at the same place does not count."""
    words = fold_words(product or "")
    names = _product_names()
    lengths = sorted({len(n) for n in names}, reverse=True)
    spans: list[tuple[int, int, tuple[str, ...]]] = []
    for start in range(len(words)):
        for n in lengths:
            if start + n <= len(words) and words[start:start + n] in names:
                spans.append((start, start + n, words[start:start + n]))
    kept = [s for s in spans if not any(o is not s and o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0]
                                        for o in spans)]
    found = {r for _, _, name in kept for r in names[name]}
    order = [r["code"] for r in rules()["risk"]]
    return ProductMatch(product, bool(kept), tuple(r for r in order if r in found),
                        tuple(" ".join(name) for _, _, name in kept))


def label(code: str) -> str:
    r = rules()
    return r["signatures"].get(code) or r["documents"].get(code) or code


def risk_label(code: str) -> str:
    return next((r.get("label", code) for r in rules()["risk"] if r["code"] == code), code)


def known_codes() -> set[str]:
    r = rules()
    return set(r["signatures"]) | set(r["documents"])


def required_codes(contract: ContractRecord, kind: ClientKind) -> list[tuple[str, str]]:
    """[(code, 'signature'|'document')] in display order, without duplicates."""
    r = rules()
    out: list[tuple[str, str]] = [(code, "signature") for code in r["signatures"]]
    docs: list[str] = []
    by_code = {risk["code"]: risk for risk in r["risk"]}
    for risk in product_match(contract.product).risks:
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
