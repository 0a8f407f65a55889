"""Authorise, then change: the one place routes check role and agency before the write path.

Order matters: a role that may never do this gets 403 whatever the case; a case outside the
user's agency, or one that does not exist, gets the same 404, so existence is not leaked.
"""
from __future__ import annotations

from datetime import datetime

from fastapi import Response
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from api.deps import etag
from api.errors import DOMAIN_ERRORS, Problem, domain_problem
from api.queries.cases import agency_of, label
from api.roles import User
from states.commands import Command
from store.write_path import ChangeResult, execute_in


def require(user: User, permission: str) -> None:
    if not user.can(permission):
        raise Problem(403, "forbidden", f"le rôle {user.role.value} ne permet pas cette opération",
                      permission=permission)


def not_found(case_id: int) -> Problem:
    return Problem(404, "case_not_found", f"dossier {case_id} introuvable", case_id=case_id)


def check_case(engine: Engine, user: User, case_id: int, permission: str) -> str:
    """The case's agency, once the user may do `permission` on it; 403 or 404 otherwise."""
    require(user, permission)
    with engine.connect() as conn:
        return _check_in(conn, user, case_id)


def _check_in(conn: Connection, user: User, case_id: int) -> str:
    agency = agency_of(conn, case_id)
    if agency is None or not user.sees(agency):
        raise not_found(case_id)
    return agency


def render(result: ChangeResult) -> JSONResponse:
    """The ChangeOut document, as the response itself (with its ETag).

    Returned as a Response, FastAPI sends it as is: the routes keep `response_model=ChangeOut`
    for the schema, but skip validating and re-encoding a dict built here from plain values
    (`changes` is already JSON-ready, see audit.jsonable) — which, for a sync route, FastAPI
    does in a second trip through the thread pool (~15 % of the request's CPU on the event loop).
    """
    return JSONResponse({"case_id": result.case_id, "state": result.state, "state_label": label(result.state),
                         "version": result.version, "audit_seq": result.audit_seq, "action": result.action,
                         "changes": result.changes}, headers={"ETag": etag(result.version)})


def perform(engine: Engine, user: User, case_id: int, version: int, command: Command, now: datetime,
            permission: str = "cases.write") -> ChangeResult:
    """Authorise, then run `command` through the one write path as this user.

    Raises Problem (403/404) or the domain's refusal (VersionConflict, GuardFailed, ...).
    The agency check reads in the write's own transaction: a second connection and transaction
    per write cost a pool checkout (a ping on PostgreSQL) and, on SQLite, a second turn for the
    one writer's lock. A refusal raises before anything is written and rolls back.
    """
    require(user, permission)
    for attempt in (1, 2):
        sent = False
        try:
            with engine.begin() as conn:
                if user.scope is not None:
                    _check_in(conn, user, case_id)
                # A user of every agency sees every case: the check could only refuse a missing case,
                # which the write path refuses with the same 404 (CaseNotFound), one query later.
                result = execute_in(conn, case_id, version, command, user.actor, now)
                sent = True  # past here the COMMIT goes out: its outcome is unknown if it fails
            return result
        except DBAPIError as exc:
            # A pooled connection found dead (PostgreSQL restarted; no pre-ping, see store/db.py):
            # the transaction never committed, so running it again on a fresh connection is the
            # same write. Once only, and never after the COMMIT was sent (503, see api/errors.py).
            if sent or attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def try_change(engine: Engine, user: User, case_id: int, version: int, command: Command, now: datetime,
               permission: str = "cases.write") -> ChangeResult | Problem:
    """The step the JSON routes and the pages share: the change made, or the Problem that
    refused it (the same document the JSON API answers: unmet guards, stale version, calling
    rules...). Only the rendering differs: `change()` below for JSON, api/pages for HTML."""
    try:
        return perform(engine, user, case_id, version, command, now, permission)
    except Problem as p:
        return p
    except DOMAIN_ERRORS as exc:
        return domain_problem(exc)


def change(engine: Engine, user: User, case_id: int, version: int, command: Command, now: datetime,
           response: Response | None = None, permission: str = "cases.write") -> JSONResponse:
    """Authorise, run `command` through the one write path as this user, render the result (JSON)."""
    outcome = try_change(engine, user, case_id, version, command, now, permission)
    if isinstance(outcome, Problem):
        raise outcome
    return render(outcome)
