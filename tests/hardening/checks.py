"""What every load and fault test proves at the end: each accepted change was accepted once,
each has exactly one audit record, and `m3 audit verify` passes."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from store.db import make_engine
from store.snapshot import CASE
from store.tables import AuditRecord

AUDIT = AuditRecord.__table__


def audit_counts(url: str) -> dict[int, tuple[int, int, int]]:
    """case id -> (version, number of audit records, highest seq)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            versions = dict(conn.execute(select(CASE.c.id, CASE.c.version)).all())
            counts = {cid: (n, top) for cid, n, top in conn.execute(
                select(AUDIT.c.case_id, func.count(), func.max(AUDIT.c.seq)).group_by(AUDIT.c.case_id)).all()}
    finally:
        engine.dispose()
    return {cid: (v, *counts.get(cid, (0, 0))) for cid, v in versions.items()}


def check_changes(url: str, accepted: list[tuple[int, int, int, str]], exact: bool = True,
                  baseline: dict[int, tuple[int, int, int]] | None = None) -> dict:
    """Every accepted change (case, If-Match version, new version) is one step of its case,
    accepted once, with its audit record. `exact`: nothing but these clients wrote (the case's
    version is then exactly its version in `baseline` (default 1) + its accepted changes);
    otherwise (answers lost to a kill) each
    acknowledged change must still be there."""
    per_case: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for case_id, expected, new, _ in accepted:
        per_case[case_id].append((expected, new))
    problems: list[str] = []
    twice = 0
    for case_id, steps in per_case.items():
        news = [n for _, n in steps]
        olds = [o for o, _ in steps]
        if len(set(olds)) != len(olds) or len(set(news)) != len(news):
            twice += 1
            problems.append(f"case {case_id}: a version accepted twice {sorted(steps)}")
        bad = [(o, n) for o, n in steps if n != o + 1]
        if bad:
            problems.append(f"case {case_id}: accepted steps that are not one version each {bad}")
    counts = audit_counts(url)
    for case_id, (version, records, top) in counts.items():
        if records != version or top != version:
            problems.append(f"case {case_id}: version {version} but {records} audit records (last seq {top})")
        acked = per_case.get(case_id, [])
        before = baseline[case_id][0] if baseline and case_id in baseline else 1
        if any(o < before for o, _ in acked):
            problems.append(f"case {case_id}: a change accepted on a version older than the run's start")
        if exact and len(acked) != version - before:
            problems.append(f"case {case_id}: version {version} but {len(acked)} changes acknowledged")
        if acked and max(n for _, n in acked) > version:
            problems.append(f"case {case_id}: an acknowledged version {max(n for _, n in acked)} is lost "
                            f"(database at {version})")
    return {"problems": problems, "cases": len(counts), "accepted": len(accepted), "accepted_twice": twice,
            "audit_records": sum(r for _, r, _ in counts.values())}


def audit_verify(zygote, url: str) -> tuple[int, str]:
    """`m3 audit verify` as a process (forked from the zygote): (exit code, output)."""
    code, out, err = zygote.run(["audit", "verify"], {"M3_DATABASE_URL": url})
    return code, out + err
