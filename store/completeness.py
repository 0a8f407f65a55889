"""Each case's document completeness, kept on its row: `documents_required` (the signatures and
documents its contracts' checklists ask for) and `documents_satisfied` (those received,
validated or waived). What the statistics add up (api/queries/stats.py), so that figure is a
SUM over case rows instead of four joins per case (docs/performance-pages.md).

The checklist is the rule of states.requirements: it depends on each contract's product and
the client's kind, and on the requirement rows recorded. So the counts are written again, in
the same transaction, by whatever changes one of those:
- opening a case (store.cases.open_cases), for the whole cohort at once, computed before the
  INSERT (`counts_of_new`) so that the rows are written once (see docs/performance-cohort.md);
- the write path, when a change records a requirement or adds a contract to the case;
- the CRM import, for the cases of the contracts and clients it changed (a product, a kind);
- `m3 products recount`, after an edit of requirements.toml or products.toml (the rules).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache

from sqlalchemy import Connection, bindparam, exists, select, update

from states import requirements
from states.records import ClientKind, ContractRecord, Family
from store.snapshot import CASE, CASE_CONTRACT, CLIENT, CONTRACT, REQUIREMENT

COLUMNS = ("documents_required", "documents_satisfied")
SATISFIED = ("received", "validated", "waived")  # states.requirements.RequirementItem.satisfied
CHUNK = 5000  # ids per IN list: well under SQLite's 32,766 variables

_IDS = bindparam("ids", expanding=True)
_LINKS = (select(CASE_CONTRACT.c.case_id, CONTRACT.c.id, CONTRACT.c.product, CLIENT.c.kind)
          .select_from(CASE_CONTRACT.join(CONTRACT, CONTRACT.c.id == CASE_CONTRACT.c.contract_id)
                       .join(CASE, CASE.c.id == CASE_CONTRACT.c.case_id).join(CLIENT, CLIENT.c.id == CASE.c.client_id))
          .where(CASE_CONTRACT.c.case_id.in_(_IDS)))
_DONE = (select(REQUIREMENT.c.contract_id, REQUIREMENT.c.code)
         .join(CASE_CONTRACT, CASE_CONTRACT.c.contract_id == REQUIREMENT.c.contract_id)
         .where(CASE_CONTRACT.c.case_id.in_(_IDS), REQUIREMENT.c.status.in_(SATISFIED)))
_SET = update(CASE).where(CASE.c.id == bindparam("w_id")).values(
    documents_required=bindparam("r"), documents_satisfied=bindparam("s"))


@lru_cache(maxsize=4096)
def required(product: str, kind: str) -> frozenset[str]:
    """The codes a contract of this product asks of a client of this kind (states.requirements:
    only the product and the kind decide)."""
    contract = ContractRecord("", Family.IARD, product, date.min, True, None)
    return frozenset(code for code, _ in requirements.required_codes(contract, ClientKind(kind)))


def counts(conn: Connection, case_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """case id -> (required, satisfied), from the stored contracts, client and requirement rows."""
    ids = list(dict.fromkeys(case_ids))
    out = {i: (0, 0) for i in ids}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        done: dict[str, set[str]] = defaultdict(set)
        for contract_id, code in conn.execute(_DONE, {"ids": chunk}):
            done[contract_id].add(code)
        acc: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for case_id, contract_id, product, kind in conn.execute(_LINKS, {"ids": chunk}):
            codes = required(product, kind)
            acc[case_id][0] += len(codes)
            acc[case_id][1] += len(codes & done.get(contract_id, set()))
        out.update({k: (v[0], v[1]) for k, v in acc.items()})
    return out


_PRODUCTS = select(CONTRACT.c.id, CONTRACT.c.product).where(CONTRACT.c.id.in_(_IDS))
_KINDS = select(CLIENT.c.id, CLIENT.c.kind).where(CLIENT.c.id.in_(_IDS))
_DONE_OF = select(REQUIREMENT.c.contract_id, REQUIREMENT.c.code).where(REQUIREMENT.c.contract_id.in_(_IDS),
                                                                       REQUIREMENT.c.status.in_(SATISFIED))


def counts_of_new(conn: Connection, cases: list[tuple[str, Sequence[str]]]) -> list[tuple[int, int]]:
    """(required, satisfied) of cases about to be opened, each given as (client id, contract ids):
    what `counts` will read once their rows exist, from the same rule, computed before the INSERT
    (on PostgreSQL, updating 25,000 freshly inserted case rows rewrote every one of them and
    their dozen indexes: 7.7 s of the cohort's 19 s under the profiler)."""
    contract_ids = list(dict.fromkeys(k for _, ks in cases for k in ks))
    client_ids = list(dict.fromkeys(c for c, _ in cases))
    product: dict[str, str] = {}
    done: dict[str, set[str]] = defaultdict(set)
    kind: dict[str, str] = {}
    for start in range(0, len(contract_ids), CHUNK):
        chunk = contract_ids[start:start + CHUNK]
        product.update(conn.execute(_PRODUCTS, {"ids": chunk}).all())
        for contract_id, code in conn.execute(_DONE_OF, {"ids": chunk}):
            done[contract_id].add(code)
    for start in range(0, len(client_ids), CHUNK):
        kind.update(conn.execute(_KINDS, {"ids": client_ids[start:start + CHUNK]}).all())
    out = []
    for client_id, ks in cases:
        req = sat = 0
        for k in ks:
            if k in product and client_id in kind:  # as counts' inner joins: no contract or client row, nothing
                codes = required(product[k], kind[client_id])
                req += len(codes)
                sat += len(codes & done[k]) if k in done else 0
        out.append((req, sat))
    return out


def refresh(conn: Connection, case_ids: Iterable[int]) -> int:
    """Write the counts of these cases; returns how many rows."""
    values = counts(conn, case_ids)
    if values:
        conn.execute(_SET, [{"w_id": k, "r": r, "s": s} for k, (r, s) in values.items()])
    return len(values)


def refresh_all(conn: Connection) -> int:
    """Every case, in batches of ids (after a change of the rules; migration 0010)."""
    n, last = 0, 0
    while True:
        ids = list(conn.execute(select(CASE.c.id).where(CASE.c.id > last).order_by(CASE.c.id).limit(CHUNK)).scalars())
        if not ids:
            return n
        n += refresh(conn, ids)
        last = ids[-1]


def any_case(conn: Connection) -> bool:
    return bool(conn.execute(select(exists().where(CASE.c.id.is_not(None)))).scalar())


def after_import(conn: Connection, contract_ids: list[str], client_ids: list[str]) -> int:
    """The cases of contracts and clients an import batch wrote (their product or kind may have
    changed): their counts again. Nothing to do, and no query, when both lists are empty."""
    cases: set[int] = set()
    for start in range(0, len(contract_ids), CHUNK):
        cases.update(conn.execute(select(CASE_CONTRACT.c.case_id).where(
            CASE_CONTRACT.c.contract_id.in_(contract_ids[start:start + CHUNK]))).scalars())
    for start in range(0, len(client_ids), CHUNK):
        cases.update(conn.execute(select(CASE.c.id).where(
            CASE.c.client_id.in_(client_ids[start:start + CHUNK]))).scalars())
    return refresh(conn, sorted(cases)) if cases else 0
