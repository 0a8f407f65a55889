"""Products of the book as the documents rules read them (states.requirements.product_match).

`unknown_products` is the agency's list to map: every product name of an active contract that
data/products.toml does not recognise, with how many contracts and open cases it concerns
(those contracts ask only for the client kind's documents until it is mapped).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from states import requirements
from states.lifecycle import State
from store.snapshot import CASE, CASE_CONTRACT, CONTRACT


@dataclass
class ProductRow:
    product: str
    families: list[str] = field(default_factory=list)
    contracts: int = 0  # active contracts
    open_cases: int = 0  # open cases holding one of them

    def as_json(self) -> dict:
        return {"product": self.product, "families": self.families, "contracts": self.contracts,
                "open_cases": self.open_cases}


def unknown_products(conn: Connection) -> list[ProductRow]:
    """Unrecognised product names of active contracts, most contracts first."""
    rows: dict[str, ProductRow] = {}
    for product, family, n in conn.execute(
            select(CONTRACT.c.product, CONTRACT.c.family, func.count())
            .where(CONTRACT.c.status == "active").group_by(CONTRACT.c.product, CONTRACT.c.family)):
        if requirements.product_match(product).known:
            continue
        row = rows.setdefault(product, ProductRow(product))
        row.families.append(family)
        row.contracts += n
    if rows:
        open_cases: dict[str, set[int]] = defaultdict(set)
        for product, case_id in conn.execute(
                select(CONTRACT.c.product, CASE_CONTRACT.c.case_id)
                .join(CASE_CONTRACT, CASE_CONTRACT.c.contract_id == CONTRACT.c.id)
                .join(CASE, CASE.c.id == CASE_CONTRACT.c.case_id)
                .where(CASE.c.state != State.CLOTURE.value, CONTRACT.c.product.in_(list(rows)))):
            open_cases[product].add(case_id)
        for product, ids in open_cases.items():
            rows[product].open_cases = len(ids)
    for row in rows.values():
        row.families.sort()
    return sorted(rows.values(), key=lambda r: (-r.contracts, r.product))
