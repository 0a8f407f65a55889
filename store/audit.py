"""The audit trail: append-only, hash-chained per case.

Each record's hash is sha256(previous hash + canonical JSON of the record). The case row keeps
the chain's tip (`audit_seq`, `audit_head`), so editing, deleting or reordering any record,
including the last one, breaks verification. A database administrator who rewrites a whole
chain and the case row together is not detected: export `m3 audit verify`'s global digest
somewhere else (a signed email, a WORM store) to anchor it.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from sqlalchemy import Connection, bindparam, select

from store import spreadsheet_safe
from store.tables import AuditRecord, FollowupCase

AUDIT = AuditRecord.__table__
CASE = FollowupCase.__table__
GENESIS = "0" * 64


def jsonable(value: Any) -> Any:
    """Changes as they will read back from the JSON column, so the hash survives a round trip."""
    try:
        return _plain_copy(value)  # the usual case, without serialising twice
    except _NotPlain:
        return json.loads(json.dumps(value, default=str, ensure_ascii=False))


class _NotPlain(Exception):
    pass


_SCALARS = (str, int, bool, type(None))


def _plain_copy(value: Any) -> Any:
    """A copy of value if it is made only of what JSON reads back unchanged (dict with str keys,
    list, str, int, bool, None, exact types, no subclasses); otherwise _NotPlain."""
    t = type(value)
    if t in _SCALARS:
        return value
    # Scalars are tested inline rather than by a call per value: a cohort hashes ~25,000 records.
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise _NotPlain
            tv = type(v)
            if tv in _SCALARS:
                out[k] = v
            elif tv is list and len(v) == 2 and type(v[0]) in _SCALARS and type(v[1]) in _SCALARS:
                out[k] = [v[0], v[1]]  # the usual [before, after] pair
            else:
                out[k] = _plain_copy(v)
        return out
    if t is list:
        return [v if type(v) in _SCALARS else _plain_copy(v) for v in value]
    raise _NotPlain


# json.dumps with these arguments builds an encoder per call; one built once writes the same bytes.
# No cycle check: what it encodes is a fresh copy (jsonable) or a value read back from JSON.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False)


def canonical(case_id: int, seq: int, at: datetime, actor: str, action: str, changes: Any, reason: str | None) -> str:
    return _CANONICAL.encode(
        {"case_id": case_id, "seq": seq, "at": at.isoformat(), "actor": actor, "action": action,
         "changes": changes, "reason": reason})


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def record_values(case_id: int, seq: int, prev_hash: str, at: datetime, actor: str, action: str,
                  changes: dict, reason: str | None, fresh: bool = False) -> dict[str, Any]:
    """The record's columns, its hash chained on `prev_hash`.

    `fresh`: the caller built `changes` for this record alone, of JSON's own types only (dict
    with str keys, list, str, int, bool, None), as store.cases.opening_changes does; it is hashed
    and stored as given, without jsonable's defensive copy (half of the copy-and-hash cost of the
    cohort's 25,000 opening records, docs/performance-cohort.md). A value JSON cannot encode
    still fails the encoder loudly."""
    changes = changes if fresh else jsonable(changes)
    at = at.astimezone(timezone.utc)  # hashed as stored: the column keeps UTC, whatever the caller's zone
    h = chain_hash(prev_hash, canonical(case_id, seq, at, actor, action, changes, reason))
    return {"case_id": case_id, "seq": seq, "at": at, "actor": actor, "action": action, "changes": changes,
            "reason": reason, "prev_hash": prev_hash, "hash": h}


@dataclass(frozen=True)
class Breach:
    case_id: int
    seq: int | None
    problem: str


def _state_after(changes: Any, state: str | None) -> str | None:
    for key in ("state", "case.state"):  # the opening record, then the write path's changes
        if isinstance(changes, dict) and isinstance(changes.get(key), list) and len(changes[key]) == 2:
            return changes[key][1]
    return state


def verify_case(records: list[Any], case_id: int, tip_seq: int, tip_hash: str,
                current_state: str | None = None, current_version: int | None = None) -> list[Breach]:
    """Every break of the chain, and (when given) a current state or version the trail does not lead to."""
    breaches: list[Breach] = []
    prev, state = GENESIS, None
    redacted_on_record = {(r.changes or {}).get("redacted", [None, {}])[1].get("seq")
                          for r in records if r.action == "redaction" and getattr(r, "redacted_at", None) is None}
    for expected_seq, r in enumerate(records, start=1):
        if r.seq != expected_seq:
            breaches.append(Breach(case_id, expected_seq, f"record {expected_seq} missing (found {r.seq})"))
            return breaches
        if r.prev_hash != prev:
            breaches.append(Breach(case_id, r.seq, "previous-hash link broken"))
        if getattr(r, "redacted_at", None) is not None:
            # Blanked by an RGPD redaction: its content can no longer be hashed, but its hash
            # (of what was removed) still links the chain, and the redaction must be on record.
            if r.seq not in redacted_on_record:
                breaches.append(Breach(case_id, r.seq, "content blanked without an audited redaction"))
        else:
            body = canonical(case_id, r.seq, r.at, r.actor, r.action, r.changes, r.reason)
            if chain_hash(r.prev_hash, body) != r.hash:
                breaches.append(Breach(case_id, r.seq, "record content does not match its hash (edited)"))
        state = _state_after(r.changes, state)
        prev = r.hash
    if len(records) != tip_seq or (tip_seq and prev != tip_hash):
        breaches.append(Breach(case_id, None, f"chain ends at {len(records)} but the case expects {tip_seq} "
                                              "(records deleted or case tip altered)"))
        return breaches  # a broken end says it all: the state and version checks below would repeat it
    # Every change through the write path adds one record and one version (the opening is both
    # the first record and version 1), so the trail must account for the case's state and version.
    if current_state is not None and records and state != current_state:
        breaches.append(Breach(case_id, None, f"the case is '{current_state}' but its trail leads to '{state}'"))
    if current_version is not None and records and current_version != len(records):
        breaches.append(Breach(case_id, None, f"the case is at version {current_version} but its trail "
                                              f"holds {len(records)} changes"))
    return breaches


def verify_all(conn: Connection) -> tuple[int, int, list[Breach], str]:
    """(cases checked, records checked, breaches, global digest over every case tip)."""
    cases = conn.execute(select(CASE.c.id, CASE.c.audit_seq, CASE.c.audit_head, CASE.c.state, CASE.c.version)
                         .order_by(CASE.c.id)).all()
    breaches: list[Breach] = []
    digest = hashlib.sha256()
    n_records = 0
    rows = conn.execute(select(AUDIT).order_by(AUDIT.c.case_id, AUDIT.c.seq)).all()
    by_case: dict[int, list] = {}
    for r in rows:
        by_case.setdefault(r.case_id, []).append(r)
    known = set()
    for c in cases:
        known.add(c.id)
        records = by_case.get(c.id, [])
        n_records += len(records)
        breaches += verify_case(records, c.id, c.audit_seq, c.audit_head, c.state, c.version)
        digest.update(f"{c.id}:{c.audit_seq}:{c.audit_head}\n".encode())
    for orphan in set(by_case) - known:
        breaches.append(Breach(orphan, None, "audit records of a case that no longer exists"))
    return len(cases), n_records, breaches, digest.hexdigest()


# Built once: building it per call cost more than running it (the case page reads it each time).
_TRAIL = select(AUDIT).where(AUDIT.c.case_id == bindparam("case_id")).order_by(AUDIT.c.seq)


def trail(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(_TRAIL, {"case_id": case_id}).all()
    return [{"seq": r.seq, "at": r.at.isoformat(), "actor": r.actor, "action": r.action, "changes": r.changes,
             "reason": r.reason, "prev_hash": r.prev_hash, "hash": r.hash} for r in rows]


CSV_COLUMNS = ("seq", "at", "actor", "action", "field", "before", "after", "reason", "hash")


def trail_csv_rows(records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One CSV row per changed field, so a spreadsheet shows before/after side by side."""
    for r in records:
        changes = r["changes"] or {"": [None, None]}
        for fld, (before, after) in changes.items():
            yield {"seq": r["seq"], "at": r["at"], "actor": r["actor"], "action": r["action"], "field": fld,
                   "before": before if not isinstance(before, (dict, list)) else json.dumps(before, ensure_ascii=False),
                   "after": after if not isinstance(after, (dict, list)) else json.dumps(after, ensure_ascii=False),
                   "reason": r["reason"], "hash": r["hash"]}


def trail_csv(records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    # Every text cell may carry what a client typed (a note, a name): never let it run as a formula.
    writer.writerows(spreadsheet_safe.row(r) for r in trail_csv_rows(records))
    return buf.getvalue()
