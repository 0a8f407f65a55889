"""The compliance pages (/conformite): find a client or a case, read its audit trail, take the
exports (the trail as JSON and CSV, the frozen bilans as PDF for the DDA, the right-of-access
export of everything held on the client), and keep the right-of-access requests with their
one-month due date until they are answered.

Compliance and admin see every agency (read-only on cases): nothing here changes a case.
Recording or answering an access request writes the `access_request` row only.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.access import not_found, require
from api.errors import Problem
from api.pages import forms as F
from api.pages import labels as L
from api.pages.common import HOME_BY_ROLE, NAV, PageUser, flash, form_of, redirect, render
from api.queries import compliance as Q
from api.queries.cases import label as state_label
from api.queries.export import client_export
from api.roles import Role, User
from states.calendar import PARIS
from store import access_requests, audit

router = APIRouter(prefix="/conformite", include_in_schema=False)

NAV.append({"label": "Conformité", "href": "/conformite", "roles": frozenset({Role.COMPLIANCE, Role.ADMIN})})
HOME_BY_ROLE[Role.COMPLIANCE] = "/conformite"
if isinstance(getattr(L, "AUDIT_ACTIONS", None), dict):
    L.AUDIT_ACTIONS.setdefault("mark_letter_posted", "courrier posté")
    L.AUDIT_ACTIONS.setdefault("record_opposition", "opposition enregistrée")


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(PARIS).date()


def _changes(changes: dict | None) -> list[str]:
    try:
        from api.pages.case import _changes_text
        return _changes_text(changes)
    except ImportError:  # pragma: no cover - the case page not there
        return [f"{k} : {v[0]!r} → {v[1]!r}" for k, v in (changes or {}).items()]


@router.get("")
async def home(request: Request, user: PageUser):
    require(user, "compliance.read")
    q = (request.query_params.get("q") or "").strip()[:100]

    def work():
        with request.app.state.engine.connect() as conn:
            found = Q.search(conn, q, user.scope) if q else None
            return found, access_requests.open_requests(conn, user.scope)

    found, requests = await run_in_threadpool(work)
    hits, more = found if found is not None else (None, False)
    ctx = {"q": q, "hits": hits, "more": more, "requests": requests, "today": _today(request),
           "limit": Q.RESULT_LIMIT}
    return render(request, "compliance/home.html", ctx, block="results")


def _client_or_404(conn, user: User, client_id: str) -> dict[str, Any]:
    client = Q.client(conn, client_id)
    if client is None or not user.sees(client["agency_id"]):
        raise Problem(404, "client_not_found", f"client {client_id} introuvable")
    return client


def _bilans(conn, case_id: int) -> list[dict[str, Any]]:
    try:
        from api.queries.bilan import records
    except ImportError:  # pragma: no cover - the bilan's frozen records not there
        return []
    try:
        return records(conn, case_id)
    except Exception:  # noqa: BLE001 - a table not migrated yet: no bilan to list
        conn.rollback()
        return []


@router.get("/clients/{client_id}")
async def client_page(request: Request, client_id: str, user: PageUser):
    require(user, "compliance.read")
    return await _client_page(request, user, client_id)


async def _client_page(request: Request, user: User, client_id: str, error: str | None = None,
                       status_code: int = 200):
    def work():
        with request.app.state.engine.connect() as conn:
            client = _client_or_404(conn, user, client_id)
            for case in client["cases"]:
                case["bilans"] = _bilans(conn, case["id"])
            return client, access_requests.of_client(conn, client_id)

    client, requests = await run_in_threadpool(work)
    ctx = {"client": client, "requests": requests, "today": _today(request), "error": error,
           "channels": access_requests.CHANNELS, "due_example": access_requests.due_on(_today(request))}
    return render(request, "compliance/client.html", ctx, status_code=status_code)


@router.get("/clients/{client_id}/export.json")
async def client_json(request: Request, client_id: str, user: PageUser):
    """The right-of-access export: everything held on the client, as one JSON file."""
    require(user, "clients.export")
    now = request.app.state.clock()

    def work():
        with request.app.state.engine.connect() as conn:
            _client_or_404(conn, user, client_id)
            return client_export(conn, client_id)

    data = await run_in_threadpool(work)
    body = json.dumps({"exported_at": now.isoformat(), "exported_by": user.username, **data}, ensure_ascii=False,
                      indent=2, default=str)
    return Response(body, media_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="droit-acces-{client_id}.json"'})


@router.post("/clients/{client_id}/demandes")
async def record_request(request: Request, client_id: str, user: PageUser):
    require(user, "access_requests.manage")
    form = await form_of(request)
    now, today = request.app.state.clock(), _today(request)
    try:
        received = F.day(form, "recue_le", "date de réception")
        channel = F.required(form, "canal", "canal")

        def work():
            with request.app.state.engine.begin() as conn:
                _client_or_404(conn, user, client_id)
                return access_requests.record(conn, client_id, received, channel, F.text(form, "note"), user.actor,
                                              now, today)

        await run_in_threadpool(work)
    except F.FormError as exc:
        return await _client_page(request, user, client_id, "; ".join(exc.errors.values()), 422)
    except access_requests.AccessRequestError as exc:
        return await _client_page(request, user, client_id, str(exc), 422)
    flash(request, f"Demande de droit d'accès enregistrée : réponse due au plus tard le "
                   f"{access_requests.due_on(received):%d/%m/%Y}.")
    return redirect(f"/conformite/clients/{client_id}")


@router.post("/demandes/{request_id}/repondue")
async def answer_request(request: Request, request_id: int, user: PageUser):
    require(user, "access_requests.manage")
    form = await form_of(request)
    now = request.app.state.clock()
    back = F.text(form, "retour")
    back = back if back and back.startswith("/conformite") and "//" not in back else "/conformite"

    def work():
        with request.app.state.engine.begin() as conn:
            return access_requests.answer(conn, request_id, user.actor, now, F.text(form, "note"))

    try:
        done = await run_in_threadpool(work)
    except access_requests.AccessRequestError as exc:
        flash(request, str(exc), "error")
        return redirect(back)
    flash(request, "Demande marquée répondue." if done else "Demande introuvable ou déjà répondue.",
          "ok" if done else "error")
    return redirect(back)


@router.get("/dossiers/{case_id}")
async def case_trail(request: Request, case_id: int, user: PageUser):
    require(user, "audit.read")
    require(user, "compliance.read")

    def work():
        from sqlalchemy import select

        from store.snapshot import CASE

        with request.app.state.engine.connect() as conn:
            row = conn.execute(select(CASE.c.id, CASE.c.client_id, CASE.c.agency_id, CASE.c.state, CASE.c.version,
                                      CASE.c.audit_seq, CASE.c.audit_head).where(CASE.c.id == case_id)).first()
            if row is None or not user.sees(row.agency_id):
                raise not_found(case_id)
            records = conn.execute(select(audit.AUDIT).where(audit.AUDIT.c.case_id == case_id)
                                   .order_by(audit.AUDIT.c.seq)).all()
            breaches = audit.verify_case(records, case_id, row.audit_seq, row.audit_head, row.state, row.version)
            client = Q.client(conn, row.client_id)
            return row, audit.trail(conn, case_id), breaches, client, _bilans(conn, case_id)

    row, trail, breaches, client, bilans = await run_in_threadpool(work)
    for rec in trail:
        rec["label"] = L.audit_action(rec["action"])
        rec["who"] = L.actor(rec["actor"])
        rec["lines"] = _changes(rec["changes"])
    ctx = {"case": row, "trail": trail, "breaches": breaches, "client": client, "bilans": bilans,
           "state_label": state_label(row.state)}
    return render(request, "compliance/trail.html", ctx)
