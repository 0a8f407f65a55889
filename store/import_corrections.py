"""The CRM import meets the write path: corrections that stand, and the audit of open cases.

Only for the clients of a batch whose CRM row changed (their `source_hash` differs) and that
were stored before (a new client has neither a case nor a correction). In the batch's own
transaction:
1. two queries find which of them have an open case (locked: FOR UPDATE on PostgreSQL; SQLite's
   import transaction already holds the write lock) or a correction;
2. for those few, one query reads their stored values, and the correction rule decides field
   by field (states.corrections.resolve_all): a standing correction keeps the stored value in the
   row the batch upserts, a CRM value taken drops the correction; both are listed as conflicts;
3. after the upsert, each open case of a client that changed gets one audit record through
   the write path (ImportClientChanges, actor `system:import`), which advances its version
   (the ETag) and its hash chain, and moves it when its client changed agency: to the
   client's advisor of record when active in that agency, else to that agency's least-loaded
   active advisor (store.assignment).
A batch whose changed clients are all unknown to this database (a first import) costs nothing
here; an unchanged re-import does not reach this module at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from states.commands import ImportClientChanges
from states.corrections import CRM_FIELDS, Resolution, audit_value, crm_text, resolve_all
from store import client_corrections
from store.assignment import AdvisorPool
from store.snapshot import CASE, CLIENT
from store.write_path import execute_in

ACTOR = "system:import"


@dataclass(frozen=True)
class Conflict:
    """A corrected field whose CRM row changed: kept (`standing`) or replaced (`crm_taken`)."""

    client_id: str
    field: str
    kind: str  # states.corrections.Resolution value
    crm_value: str | None  # what the CRM sent this time
    corrected_value: str | None  # what the correction had set
    case_id: int | None  # the case whose trail holds the correction


@dataclass(frozen=True)
class CaseMove:
    case_id: int
    from_agency: str
    to_agency: str
    advisor_id: int | None


@dataclass
class Pending:
    """What `finish` writes after the batch's upsert."""

    audits: list[tuple[Any, ImportClientChanges]]  # (case row, command)
    dropped: list[tuple[str, str]]  # (client id, field)


class Reconciler:
    """One per import. `columns`: the client columns of the importer's rows, in order; `raw`:
    the rows hold driver values (SQLite: amounts as floats)."""

    def __init__(self, columns: list[str], raw: bool, now: datetime):
        self.columns, self.raw, self.now = columns, raw, now
        self.audited = [c for c in columns if c not in ("id", "source_hash")]
        missing = set(CRM_FIELDS) - set(columns)
        if missing:
            raise RuntimeError(f"CRM fields the import does not write: {sorted(missing)}")
        self.conflicts: list[Conflict] = []
        self.moves: list[CaseMove] = []
        self.cases_audited = 0

    def prepare(self, conn: Connection, existing: list[str], rows: list[tuple]) -> tuple[list[tuple], Pending]:
        """`rows`: the batch's client rows; `existing`: the ids among them stored before.
        Returns the rows to upsert (standing corrections put back) and what `finish` writes."""
        pending = Pending([], [])
        if not existing:
            return rows, pending
        where, params = client_corrections.ids_in(conn, CASE.c.client_id, existing)
        cases: dict[str, list] = {}
        for case in conn.execute(
                select(CASE.c.id, CASE.c.client_id, CASE.c.agency_id, CASE.c.assigned_advisor_id, CASE.c.version)
                .where(where, CASE.c.state != "cloture").order_by(CASE.c.id).with_for_update(), params):
            cases.setdefault(case.client_id, []).append(case)
        corrections = client_corrections.for_clients(conn, existing)
        affected = cases.keys() | corrections.keys()
        if not affected:
            return rows, pending
        where, params = client_corrections.ids_in(conn, CLIENT.c.id, list(affected))
        stored = {r[0]: r for r in conn.execute(select(*[CLIENT.c[c] for c in self.columns]).where(where), params)}
        out = list(rows)
        for i, row in enumerate(rows):
            cid = row[0]
            if cid not in affected or cid not in stored:
                continue
            old = dict(zip(self.columns, stored[cid]))
            new = dict(zip(self.columns, row))
            standing, taken = self._resolve(cid, old, new, corrections.get(cid, {}), pending)
            out[i] = tuple(new[c] for c in self.columns)
            changes = {f"client.{c}": (audit_value(c, old[c]), audit_value(c, new[c])) for c in self.audited
                       if crm_text(c, old[c]) != crm_text(c, new[c])}
            for case in cases.get(cid, ()):
                command = self._command(case, new, changes, standing, taken)
                if command is not None:
                    pending.audits.append((case, command))
        return out, pending

    def _resolve(self, cid: str, old: dict, new: dict, corrections: dict, pending: Pending) -> tuple[tuple, tuple]:
        standing, taken = [], []
        corrections = {n: c for n, c in corrections.items() if n in new}  # an optional column the file lacks
        incoming = {name: crm_text(name, new[name]) for name in corrections}
        for name, resolution in resolve_all(incoming, corrections).items():
            correction = corrections[name]
            if resolution is Resolution.STANDING:
                new[name] = self._driver(name, old[name])
                if name == "naf_code":  # the nomenclature follows the code it describes
                    new["naf_nomenclature"] = old["naf_nomenclature"]
                standing.append(name)
            else:
                pending.dropped.append((cid, name))
                if resolution is Resolution.CRM_TAKEN:
                    taken.append(name)
            if resolution is not Resolution.AGREED:
                self.conflicts.append(Conflict(cid, name, resolution.value, incoming[name],
                                               correction.corrected_value, correction.case_id))
        return tuple(standing), tuple(taken)

    def _driver(self, name: str, value: Any) -> Any:
        if self.raw and name == "turnover_eur" and value is not None:
            return float(value)  # what the SQLite rows hold (store.import_prepare)
        return value

    @staticmethod
    def _command(case, new: dict, changes: dict, standing: tuple, taken: tuple) -> ImportClientChanges | None:
        moving = case.agency_id != new["agency_id"]
        if not changes and not moving:
            return None  # e.g. only the column of a standing correction changed in the CRM
        # Moving: the client's advisor of record is the preference; `finish` chooses among the
        # active advisors of the new agency.
        return ImportClientChanges(changes=changes, standing=standing, taken=taken,
                                   agency_id=new["agency_id"] if moving else None,
                                   advisor_id=new["advisor_id"] if moving else None)

    def finish(self, conn: Connection, pending: Pending) -> None:
        """After the batch's upsert, in its transaction: audit (and move) the open cases, drop
        the corrections the CRM caught up with or overtook."""
        pool = None
        for case, command in pending.audits:
            if command.agency_id is not None:
                if pool is None:
                    pool = AdvisorPool(conn)
                chosen = pool.choose(command.agency_id, command.advisor_id, moved_from=case.assigned_advisor_id)
                command = ImportClientChanges(command.changes, command.standing, command.taken,
                                              command.agency_id, chosen)
                self.moves.append(CaseMove(case.id, case.agency_id, command.agency_id, chosen))
            execute_in(conn, case.id, case.version, command, ACTOR, self.now)
            self.cases_audited += 1
        client_corrections.drop(conn, pending.dropped)
