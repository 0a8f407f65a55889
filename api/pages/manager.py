"""The manager's pages (/manager): the cohort's progress as charts, overdue cases and missed
appointments, bulk reassignment, advisors leaving, the CRM export in and the corrections back
out, the day's letters printed as one PDF and recorded posted.

A manager sees and acts on their own agency only (User.scope); an admin picks the agency
(`?agence=`, every agency when none). Every change to a case goes through the same step as the
JSON API (`api.access.try_change`: authorise, then the write path), one case at a time, so a
bulk action reports each case's own result: a case changed since the list was shown is
reported stale ("le dossier a changé") and the others proceed.
"""
from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import access, charts
from api.access import require
from api.errors import Problem
from api.pages import forms as F
from api.pages.common import HOME_BY_ROLE, NAV, PageUser, flash, form_of, int_or_none, redirect, render
from api.queries import manager as Q
from api.roles import Role, User
from config import get_settings
from states.calendar import PARIS
from states.commands import MarkLetterPosted, Reassign
from states.lifecycle import STATE_LABELS, State
from store import corrections_export, letters_batch

router = APIRouter(prefix="/manager", include_in_schema=False)

NAV.append({"label": "Pilotage", "href": "/manager", "roles": frozenset({Role.MANAGER, Role.ADMIN})})
HOME_BY_ROLE[Role.MANAGER] = "/manager"

try:  # the account page lists what the user may do
    from api.pages.account import PERMISSION_LABELS
    PERMISSION_LABELS.update({
        "letters.post": "imprimer et poster les courriers", "crm.import": "importer l'export du CRM",
        "corrections.export": "exporter les corrections vers le CRM",
        "advisors.manage": "désactiver un conseiller", "compliance.read": "rechercher et auditer (conformité)",
        "access_requests.manage": "enregistrer les demandes de droit d'accès"})
except ImportError:  # pragma: no cover
    pass

SERIES = [charts.Series(s.value, STATE_LABELS[s]) for s in State]
SECTIONS = [("/manager", "Tableau de bord"), ("/manager/reassigner", "Réassigner"),
            ("/manager/conseillers", "Conseillers"), ("/manager/courriers", "Courriers du jour"),
            ("/manager/import", "Import du CRM"), ("/manager/corrections", "Corrections vers le CRM")]


# ---------------------------------------------------------------- helpers
def _agency(request: Request, user: User, form=None) -> str | None:
    """The agency the page works on: the manager's own; for an admin, the one picked (or all)."""
    if user.scope is not None:
        return user.scope
    value = (form.get("agence") if form is not None else None) or request.query_params.get("agence") or None
    return str(value) if value else None


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(PARIS).date()


async def _agencies(request: Request, user: User):
    def work():
        with request.app.state.engine.connect() as conn:
            return Q.agencies(conn, user.scope)
    return await run_in_threadpool(work)


def _agency_query(agency: str | None) -> str:
    return f"?agence={agency}" if agency else ""


# ---------------------------------------------------------------- dashboard
def _charts(data: dict[str, Any]) -> dict[str, Any]:
    totals, advisors = data["totals"], data["advisors"]
    by_state = [(STATE_LABELS[s], totals["by_state"].get(s.value, 0)) for s in State]
    return {
        "states": charts.bars(by_state, "Dossiers par état", fmt=lambda v: f"{v:.0f}"),
        "advisors": charts.stacked([(a["name"], a["by_state"]) for a in advisors], SERIES,
                                   "Dossiers par conseiller et par état", width=1060),
        "reach": charts.rates([("Agence", totals["reach_rate"])] + [(a["name"], a["reach_rate"]) for a in advisors],
                              "Taux de joignabilité (clients joints / dossiers)"),
        "on_time": charts.rates([("Agence", totals["on_time_rate"])]
                                + [(a["name"], a["on_time_rate"]) for a in advisors],
                                "Taux de contact dans les délais (joints dans la fenêtre / joints)"),
        "multi": charts.before_after(totals["multi_equipment_before"], totals["multi_equipment_after"],
                                     "Taux de multi-équipement des clients dont le bilan est fait"),
    }


@router.get("")
async def dashboard(request: Request, user: PageUser):
    require(user, "stats.read")
    agency = _agency(request, user)
    now = request.app.state.clock()
    today = _today(request)
    tolerance = getattr(request.app.state, "appointment_tolerance", None) or _tolerance()

    def work():
        with request.app.state.engine.connect() as conn:
            months = Q.cohort_months(conn, agency)
            month = request.query_params.get("mois")
            if month not in months:
                current = f"{today:%Y-%m}"
                month = current if current in months else (months[0] if months else None)
            data = Q.dashboard(conn, user.scope, month, agency)
            late, late_total = Q.overdue(conn, user.scope, today, agency, limit=20)
            missed = Q.missed_appointments(conn, user.scope, now, tolerance, agency, limit=20)
            return months, month, data, late, late_total, missed, Q.agencies(conn, user.scope)

    months, month, data, late, late_total, missed, agencies = await run_in_threadpool(work)
    ctx = {"sections": SECTIONS, "section": "/manager", "agency": agency, "agency_choices": agencies,
           "today": today, "months": months, "month": month, "totals": data["totals"], "advisors": data["advisors"],
           "charts": _charts(data), "late": late, "late_total": late_total, "missed": missed,
           "percent": charts.percent, "state_labels": {s.value: STATE_LABELS[s] for s in State}}
    return render(request, "manager/dashboard.html", ctx)


def _tolerance():
    from datetime import timedelta

    return timedelta(minutes=getattr(get_settings(), "appointment_tolerance_minutes", 120))


# ---------------------------------------------------------------- bulk reassignment
def _reassign_filters(request: Request) -> dict[str, Any]:
    p = request.query_params
    source = p.get("de") or ""
    return {"de": source, "advisor": int_or_none(source) if source not in ("", "aucun") else None,
            "unassigned": source == "aucun", "retard": p.get("retard") == "1"}


async def _reassign_page(request: Request, user: User, agency: str | None, results: list | None = None,
                         status_code: int = 200, error: str | None = None):
    f = _reassign_filters(request)
    today = _today(request)

    def work():
        with request.app.state.engine.connect() as conn:
            cases, total = Q.open_cases(conn, user.scope, today, advisor=f["advisor"], unassigned=f["unassigned"],
                                        late_only=f["retard"], agency=agency)
            return cases, total, Q.advisors(conn, user.scope, agency), Q.agencies(conn, user.scope)

    cases, total, advisors, agencies = await run_in_threadpool(work)
    ctx = {"sections": SECTIONS, "section": "/manager/reassigner", "agency": agency, "agency_choices": agencies,
           "today": today, "f": f, "cases": cases, "total": total, "advisors": advisors,
           "active_advisors": [a for a in advisors if a.active], "results": results, "error": error,
           "limit": Q.LIST_LIMIT}
    return render(request, "manager/reassign.html", ctx, status_code=status_code)


@router.get("/reassigner")
async def reassign_form(request: Request, user: PageUser):
    require(user, "cases.reassign")
    return await _reassign_page(request, user, _agency(request, user))


def _bulk_reassign(request: Request, user: User, items: list[tuple[int, int]], advisor_id: int,
                   reason: str | None) -> list[dict[str, Any]]:
    """Each case on its own: its version, its transaction, its result (the JSON route's rule)."""
    engine, now = request.app.state.engine, request.app.state.clock()
    out = []
    for case_id, version in items:
        outcome = access.try_change(engine, user, case_id, version, Reassign(advisor_id, reason), now,
                                    permission="cases.reassign")
        if isinstance(outcome, Problem):
            out.append({"case_id": case_id, "ok": False, "code": outcome.code, "stale": outcome.code == "version_conflict",
                        "detail": outcome.detail, **{k: v for k, v in outcome.extra.items() if k == "errors"}})
        else:
            out.append({"case_id": case_id, "ok": True, "version": outcome.version})
    return out


@router.post("/reassigner")
async def reassign(request: Request, user: PageUser):
    require(user, "cases.reassign")
    form = await form_of(request)
    agency = _agency(request, user, form)
    try:
        advisor_id = F.integer(form, "conseiller", "conseiller qui reprend")
        items = []
        for raw in form.getlist("dossier"):
            case_id = int_or_none(raw)
            version = int_or_none(form.get(f"version_{case_id}")) if case_id else None
            if case_id is None or version is None:
                raise F.FormError({"dossier": f"dossier illisible : {raw!r}"})
            items.append((case_id, version))
        if not items:
            raise F.FormError({"dossier": "cochez au moins un dossier"})
        if len(items) > Q.LIST_LIMIT:
            raise F.FormError({"dossier": f"{Q.LIST_LIMIT} dossiers au plus à la fois"})
    except F.FormError as exc:
        return await _reassign_page(request, user, agency, status_code=422, error="; ".join(exc.errors.values()))
    reason = F.text(form, "motif")
    results = await run_in_threadpool(_bulk_reassign, request, user, items, advisor_id, reason[:300] if reason else None)
    return await _reassign_page(request, user, agency, results=results)


# ---------------------------------------------------------------- advisors: deactivate with hand-over
async def _advisors_page(request: Request, user: User, agency: str | None, error: str | None = None,
                         status_code: int = 200):
    def work():
        with request.app.state.engine.connect() as conn:
            return Q.advisors(conn, user.scope, agency), Q.agencies(conn, user.scope)

    advisors, agencies = await run_in_threadpool(work)
    ctx = {"sections": SECTIONS, "section": "/manager/conseillers", "agency": agency, "agency_choices": agencies,
           "today": _today(request), "advisors": advisors, "error": error}
    return render(request, "manager/advisors.html", ctx, status_code=status_code)


@router.get("/conseillers")
async def advisors_page(request: Request, user: PageUser):
    require(user, "advisors.manage")
    return await _advisors_page(request, user, _agency(request, user))


@router.post("/conseillers/{advisor_id}/desactiver")
async def deactivate(request: Request, advisor_id: int, user: PageUser):
    from store import advisor_admin

    require(user, "advisors.manage")
    form = await form_of(request)
    agency = _agency(request, user, form)
    target = F.text(form, "repreneur")
    engine, now = request.app.state.engine, request.app.state.clock()

    def work():
        with engine.begin() as conn:
            adv = {a.id: a for a in Q.advisors(conn, user.scope)}
            if advisor_id not in adv:
                raise advisor_admin.AdvisorError(f"conseiller {advisor_id} introuvable dans votre agence")
            if target not in (None, "repartir") and (int_or_none(target) not in adv):
                raise advisor_admin.AdvisorError("le conseiller qui reprend doit être de votre agence")
            return advisor_admin.deactivate(conn, str(advisor_id),
                                            reassign_to=None if target in (None, "repartir") else str(int(target)),
                                            spread=target == "repartir", actor=user.actor, now=now)

    try:
        done = await run_in_threadpool(work)
    except advisor_admin.AdvisorError as exc:
        return await _advisors_page(request, user, agency, error=str(exc), status_code=422)
    n = len(done.reassigned)
    flash(request, f"{done.advisor.display_name} désactivé(e)" + (f" ; {n} dossier(s) réassigné(s)" if n else ""))
    return redirect("/manager/conseillers" + _agency_query(agency))


# ---------------------------------------------------------------- the CRM export, uploaded
async def _save_upload(upload, limit: int, folder: Path) -> Path:
    """Copy the uploaded file to `folder`, refusing more than `limit` bytes."""
    path = folder / "export.csv"
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise F.FormError({"fichier": f"fichier trop gros (plus de {limit // (1 << 20)} Mo)"})
            out.write(chunk)
    if size == 0:
        raise F.FormError({"fichier": "fichier vide"})
    return path


@router.get("/import")
async def import_form(request: Request, user: PageUser):
    require(user, "crm.import")
    agencies = await _agencies(request, user)
    ctx = {"sections": SECTIONS, "section": "/manager/import", "agency": _agency(request, user),
           "agency_choices": agencies, "today": _today(request), "summary": None, "error": None,
           "max_mb": get_settings().upload_max_mb}
    return render(request, "manager/import.html", ctx)


@router.post("/import")
async def import_upload(request: Request, user: PageUser):
    from store.csv_source import SourceError
    from store.importer import ImportInterrupted, import_file

    require(user, "crm.import")
    max_bytes = get_settings().upload_max_mb << 20
    declared = int_or_none(request.headers.get("content-length"))
    agencies = await _agencies(request, user)
    ctx = {"sections": SECTIONS, "section": "/manager/import", "agency": _agency(request, user),
           "agency_choices": agencies, "today": _today(request), "summary": None, "error": None,
           "max_mb": get_settings().upload_max_mb, "filename": None}
    if declared is not None and declared > max_bytes + (64 << 10):
        ctx["error"] = f"fichier trop gros (plus de {get_settings().upload_max_mb} Mo)"
        return render(request, "manager/import.html", ctx, status_code=413)
    form = await form_of(request)
    upload = form.get("fichier")
    if upload is None or not hasattr(upload, "read"):
        ctx["error"] = "choisissez le fichier de l'export du CRM (CSV)"
        return render(request, "manager/import.html", ctx, status_code=422)
    ctx["filename"] = (getattr(upload, "filename", None) or "export.csv")[:200]
    folder = Path(tempfile.mkdtemp(prefix="m3-import-"))
    try:
        try:
            path = await _save_upload(upload, max_bytes, folder)
        except F.FormError as exc:
            ctx["error"] = "; ".join(exc.errors.values())
            return render(request, "manager/import.html", ctx, status_code=413 if "gros" in ctx["error"] else 422)
        now = request.app.state.clock()
        try:
            summary = await run_in_threadpool(import_file, request.app.state.engine, path, parallel=False, now=now)
        except SourceError as exc:
            ctx["error"] = f"le fichier n'a pas pu être lu : {exc}"
            return render(request, "manager/import.html", ctx, status_code=422)
        except ImportInterrupted as exc:  # its message names no row (store/importer.py)
            ctx["error"] = f"import interrompu : {exc}"
            return render(request, "manager/import.html", ctx, status_code=500)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ctx["summary"] = summary
    ctx["conflicts"], ctx["conflicts_hidden"] = await run_in_threadpool(_visible_conflicts, request, user, summary)
    return render(request, "manager/import.html", ctx)


def _visible_conflicts(request: Request, user: User, summary) -> tuple[list[dict[str, Any]], int]:
    """The import's conflicts on the user's agency's clients (the others are counted, not shown)."""
    from sqlalchemy import select

    from states.corrections import LABELS, RESOLUTION_LABELS, Resolution
    from store.snapshot import CLIENT

    conflicts = list(getattr(summary, "conflicts", []) or [])
    if not conflicts:
        return [], 0
    ids = sorted({c.client_id for c in conflicts})
    with request.app.state.engine.connect() as conn:
        agency = dict(conn.execute(select(CLIENT.c.id, CLIENT.c.agency_id).where(CLIENT.c.id.in_(ids))).all())
    shown = []
    for c in conflicts:
        if not user.sees(agency.get(c.client_id)):
            continue
        try:
            label = RESOLUTION_LABELS.get(Resolution(c.kind), c.kind)
        except ValueError:
            label = c.kind
        shown.append({"client_id": c.client_id, "field": LABELS.get(c.field, c.field), "kind": c.kind,
                      "kind_label": label, "crm_value": c.crm_value, "corrected_value": c.corrected_value,
                      "case_id": c.case_id})
    return shown, len(conflicts) - len(shown)


# ---------------------------------------------------------------- corrections back to the CRM
@router.get("/corrections")
async def corrections(request: Request, user: PageUser):
    require(user, "corrections.export")

    def work():
        with request.app.state.engine.connect() as conn:
            items, clients = corrections_export.pending(conn, user.scope)
            return items, clients, corrections_export.previous_exports(conn, user.scope), Q.agencies(conn, user.scope)

    items, clients, previous, agencies = await run_in_threadpool(work)
    ctx = {"sections": SECTIONS, "section": "/manager/corrections", "agency": user.scope, "agency_choices": agencies,
           "today": _today(request), "items": items, "clients": clients, "previous": previous,
           "columns": corrections_export.COLUMNS}
    return render(request, "manager/corrections.html", ctx)


def _csv_response(export: corrections_export.Export) -> Response:
    return Response(export.body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{export.filename}"',
                             "X-M3-Clients": str(export.clients), "X-M3-Corrections": str(export.corrections)})


@router.post("/corrections/export")
async def corrections_download(request: Request, user: PageUser):
    require(user, "corrections.export")
    await form_of(request)
    now = request.app.state.clock()

    def work():
        with request.app.state.engine.begin() as conn:
            return corrections_export.export(conn, user.scope, now)

    export = await run_in_threadpool(work)
    if not export.corrections:
        flash(request, "Aucune correction à exporter depuis le dernier export.", "info")
        return redirect("/manager/corrections")
    return _csv_response(export)


@router.get("/corrections/export-{stamp}.csv")
async def corrections_again(request: Request, stamp: str, user: PageUser):
    require(user, "corrections.export")
    try:
        at = datetime.fromisoformat(stamp.replace(" ", "+"))
    except ValueError:
        raise Problem(404, "not_found", "export introuvable") from None

    def work():
        with request.app.state.engine.connect() as conn:
            return corrections_export.again(conn, user.scope, at)

    export = await run_in_threadpool(work)
    if not export.corrections:
        raise Problem(404, "not_found", "export introuvable")
    return _csv_response(export)


# ---------------------------------------------------------------- the day's letters
def _day(value: str | None, today: date) -> date:
    if not value:
        return today
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(404, "not_found", "jour illisible (AAAA-MM-JJ)") from None


async def _letters(request: Request, user: User, day: date):
    letters_dir = get_settings().letters_dir

    def work():
        with request.app.state.engine.connect() as conn:
            return (letters_batch.letters_of_day(conn, user.scope, day, letters_dir),
                    letters_batch.recent_days(conn, user.scope, _today(request)),
                    letters_batch.waiting(conn, user.scope), Q.agencies(conn, user.scope))

    return await run_in_threadpool(work)


@router.get("/courriers")
async def letters_page(request: Request, user: PageUser):
    require(user, "letters.post")
    return await _letters_page(request, user, None)


async def _letters_page(request: Request, user: User, results: list | None, day: date | None = None):
    day = day or _day(request.query_params.get("jour"), _today(request))
    letters, days, waiting, agencies = await _letters(request, user, day)
    ctx = {"sections": SECTIONS, "section": "/manager/courriers", "agency": user.scope, "agency_choices": agencies,
           "today": _today(request), "day": day, "days": days, "waiting": waiting,
           "to_post": [x for x in letters if x.to_post], "moved_on": [x for x in letters if x.moved_on],
           "posted": [x for x in letters if x.posted_on is not None],
           "missing": [x for x in letters if x.path is None and x.posted_on is None and not x.moved_on],
           "results": results, "unreachable_days": get_settings().business_days_before_unreachable}
    return render(request, "manager/letters.html", ctx)


@router.get("/courriers/{day}.pdf")
async def letters_pdf(request: Request, day: str, user: PageUser):
    require(user, "letters.post")
    d = _day(day, _today(request))
    letters, *_ = await _letters(request, user, d)
    paths = [x.path for x in letters if x.to_post]
    if not paths:
        raise Problem(404, "not_found", f"aucun courrier à poster pour le {d:%d/%m/%Y}")
    pdf = await run_in_threadpool(letters_batch.batch_pdf, paths)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="courriers-{d.isoformat()}.pdf"',
                             "X-M3-Letters": str(len(paths))})


def _post_letters(request: Request, user: User, letter_ids: list[int], posted_on: date,
                  day: date) -> list[dict[str, Any]]:
    """Each letter through the write path (MarkLetterPosted on its case), with its result. The
    version is the case's current one: posting does not depend on what the manager saw of the
    case, so a case changed meanwhile is simply read again (twice at most)."""
    engine, now = request.app.state.engine, request.app.state.clock()
    with engine.connect() as conn:
        by_id = {x.id: x for x in letters_batch.letters_of_day(conn, user.scope, day, get_settings().letters_dir)}
    out = []
    for letter_id in letter_ids:
        letter = by_id.get(letter_id)
        if letter is None:
            out.append({"letter_id": letter_id, "case_id": None, "ok": False, "detail": "courrier introuvable ce jour-là"})
            continue
        outcome: Any = None
        for _ in range(3):
            with engine.connect() as conn:
                version = Q.versions(conn, [letter.case_id]).get(letter.case_id, (0, None))[0]
            outcome = access.try_change(engine, user, letter.case_id, version, MarkLetterPosted(letter_id, posted_on),
                                        now, permission="letters.post")
            if not (isinstance(outcome, Problem) and outcome.code == "version_conflict"):
                break
        if isinstance(outcome, Problem):
            out.append({"letter_id": letter_id, "case_id": letter.case_id, "ok": False, "detail": outcome.detail})
        else:
            out.append({"letter_id": letter_id, "case_id": letter.case_id, "ok": True})
    return out


@router.post("/courriers/{day}/poster")
async def letters_posted(request: Request, day: str, user: PageUser):
    require(user, "letters.post")
    form = await form_of(request)
    d = _day(day, _today(request))
    try:
        posted_on = F.day(form, "date_depot", "date de dépôt")
        ids = [int(x) for x in form.getlist("courrier") if str(x).isdigit()]
        if not ids:
            raise F.FormError({"courrier": "cochez au moins un courrier"})
    except F.FormError as exc:
        flash(request, "; ".join(exc.errors.values()), "error")
        return redirect(f"/manager/courriers?jour={d.isoformat()}")
    results = await run_in_threadpool(_post_letters, request, user, ids, posted_on, d)
    ok = sum(1 for r in results if r["ok"])
    flash(request, f"{ok} courrier(s) enregistré(s) comme posté(s) le {posted_on:%d/%m/%Y}"
          + (f" ; {len(results) - ok} refusé(s)" if ok < len(results) else ""), "ok" if ok == len(results) else "error")
    return await _letters_page(request, user, results, d)
