"""A case (/dossiers/{id}), in the order of the call, and the record work done on it.

Every form POSTs to `/dossiers/{id}/<action>` with the version the page was rendered from (a
hidden field: the pages' If-Match) and the CSRF token. The action builds the same command the
JSON route builds and calls the same step (`api.access.try_change`), which answers the change
made or the Problem that refused it; only the rendering differs:

- htmx: the whole case body again (every checklist, the allowed transitions, the trail and
  every form's version change together), the result shown in the section that asked; a refusal
  goes to that section's message slot (the user's input stays), a stale version to the notice
  at the top ("le dossier a changé", with a reload);
- a plain form: 303 to the case page (with a flash message), or the page with the problem.

To add an action: a builder `(form, ctx) -> Command` in ACTIONS, with its section and message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Callable
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api import access
from api.errors import Problem
from api.pages import forms as F
from api.pages import labels as L
from api.pages.common import PageUser, flash, form_of, is_htmx, problem_context, redirect, render
from api.queries import worklist
from api.queries.cases import case_detail, detail_of
from api.queries.cases import label as state_label
from api.roles import User
from api.schemas import ClientCorrection, InventoryIn, OutcomeIn
from config import get_settings
from states import fiche
from states.calendar import PARIS, client_timezone
from states.calling_rules import DEFAULT_POLICY, next_allowed_slot
from states.calls import solicitation_refusals
from states.commands import (
    AcceptSuggestion, AddAction, AddInventoryLine, AddNote, AddOutcome, AddTopic, AnswerTopic, BookAppointment,
    CancelAppointment, Command, ConfirmAssignment, CorrectClient, DevisRequest, DismissSuggestion, FireEvent,
    MoveAppointment, PrefillInventory, RecordAttempt, SendBilan, SetNothingElsewhere, SetRequirement, UpdateAction,
    UpdateOutcome,
)
from states.decide import CORRECTABLE
from states.lifecycle import EVENTS, State
from states.records import (
    ActionKind, ActionStatus, AppointmentChannel, AttemptOutcome, CallBasis, Channel, ClientDecision, ClientKind,
    DevisStatus, Direction, RequirementStatus, TopicKind,
)
from store import audit
from store.case_read import Offers, read_case
from store.write_path import ChangeResult

router = APIRouter(prefix="/dossiers/{case_id}", include_in_schema=False)
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]

# The client record form: (field, label, input type, choices); shown when the domain lets it be
# corrected (states.decide.CORRECTABLE) and the JSON schema knows it, in this order.
_HOUSING = [("", "— à demander —"), ("owner", "Propriétaire"), ("tenant", "Locataire"), ("hosted", "Hébergé")]
FIELDS: list[tuple[str, str, str, list | None]] = [
    ("civility", "Civilité", "select", [("", "—"), ("M.", "M."), ("Mme", "Mme")]),
    ("last_name", "Nom", "text", None),
    ("first_name", "Prénom", "text", None),
    ("company_name", "Raison sociale", "text", None),
    ("address", "Adresse", "text", None),
    ("postal_code", "Code postal", "text", None),
    ("city", "Ville", "text", None),
    ("phone", "Téléphone", "tel", None),
    ("email", "Email", "email", None),
    ("marital_status", "Situation matrimoniale", "select", [("", "—")] + [(m, m) for m in fiche.MARITAL_STATUSES]),
    ("professional_status", "Situation professionnelle", "text", None),
    ("siret", "SIRET", "text", None),
    ("naf_code", "Code NAF", "text", None),
    ("activity", "Activité exacte", "text", None),
    ("turnover_eur", "Chiffre d'affaires (€)", "number", None),
    ("headcount", "Effectif (salariés)", "number", None),
    ("insurance_contact", "Contact qui gère les assurances", "text", None),
    ("children_at_home", "Enfants au foyer", "number", None),
    ("housing_status", "Logement", "select", _HOUSING),
    ("vehicles", "Véhicules", "number", None),
    ("cadres", "Cadres", "number", None),
    ("opposition_phone", "Opposé(e) au démarchage téléphonique", "checkbox", None),
    ("opposition_email", "Opposé(e) aux emails commerciaux", "checkbox", None),
    ("opposition_letter", "Opposé(e) aux courriers commerciaux", "checkbox", None),
]
_PRO_ONLY = {"siret", "naf_code", "activity", "turnover_eur", "headcount", "company_name", "cadres"}
_COMPANY_ONLY = {"insurance_contact"}


def _form_fields(kind: str) -> list[tuple[str, str, str, list | None]]:
    known = set(CORRECTABLE) & set(ClientCorrection.model_fields)
    out = []
    for spec in FIELDS:
        name = spec[0]
        if name not in known:
            continue
        if name in _PRO_ONLY and kind == ClientKind.PARTICULIER.value:
            continue
        if name in _COMPANY_ONLY and kind != ClientKind.ENTREPRISE.value:
            continue
        out.append(spec)
    return out


# ---------------------------------------------------------------- reading the case
def _tolerance() -> timedelta:
    return timedelta(minutes=getattr(get_settings(), "appointment_tolerance_minutes", 120))


def calling_status(snap, now: datetime) -> dict[str, Any]:
    """Whether an outbound solicitation call is allowed now and, if not, why and when it will be."""
    client = snap.client
    tz = client_timezone(client.postal_code)
    consumer = client.kind is ClientKind.PARTICULIER
    slots = DEFAULT_POLICY.consumer_slots if consumer else DEFAULT_POLICY.business_slots
    hours = " et ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in slots)
    rules = (f"Particulier (D223-9) : du lundi au vendredi, {hours}, hors jours fériés, 4 appels au plus sur "
             "30 jours, aucun pendant 60 jours après un refus." if consumer else
             f"Professionnel : jours ouvrés, {hours}.")
    if snap.state == State.CLOTURE.value:
        return {"allowed": False, "closed": True, "reasons": ["dossier clôturé"], "next_slot": None,
                "rules": rules, "tz": tz.key, "client_now": now.astimezone(tz)}
    reasons = solicitation_refusals(snap, now)
    next_slot = None
    if reasons and not client.opposition_phone:
        start = now
        if snap.window_start is not None:
            start = max(now, datetime.combine(snap.window_start, time(0), tz))
        next_slot = next_allowed_slot(client.kind, client.postal_code, start, snap.attempts or ())
    return {"allowed": not reasons, "closed": False, "reasons": reasons, "next_slot": next_slot, "rules": rules,
            "tz": tz.key, "client_now": now.astimezone(tz)}


def _value(v: Any) -> str:
    """An audited value as a person reads it (the trail stores JSON values)."""
    if v is None or v == "":
        return "—"
    if v is True:
        return "oui"
    if v is False:
        return "non"
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v) or "—"
    if isinstance(v, dict):
        return ", ".join(f"{k} : {_value(x)}" for k, x in v.items() if x not in (None, "", [], {})) or "—"
    return str(v)


def _changes_text(changes: dict[str, Any]) -> list[str]:
    """One line per changed field: 'client.email : a@x.fr → b@x.fr', or the new value alone."""
    out = []
    for name, pair in (changes or {}).items():
        if isinstance(pair, list) and len(pair) == 2:
            before, after = pair
            out.append(f"{name} : {_value(after)}" if before is None else f"{name} : {_value(before)} → {_value(after)}")
        else:
            out.append(f"{name} : {_value(pair)}")
    return out


def load_view(engine, user: User, case_id: int, now: datetime) -> dict[str, Any]:
    """Everything the case page shows, read in one connection; 404 when the user may not see it."""
    access.require(user, "cases.read")
    today = now.astimezone(PARIS).date()
    with engine.connect() as conn:
        # Each table once (store/case_read.py): the advisors the forms offer come with the case's.
        rows = read_case(conn, case_id, Offers(user.scope))
        if rows is None or not user.sees(rows.case.agency_id):
            raise access.not_found(case_id)
        detail = detail_of(conn, rows, today, now, _tolerance())
        snap = rows.snapshot
        trail = audit.trail(conn, case_id)
        agency = rows.case.agency_id
        advisors = worklist.offered(rows.offered_in(agency))
        all_advisors = advisors if user.scope == agency else worklist.offered(rows.offered_in(user.scope))
        agencies = [a for a in worklist.agencies(conn) if user.sees(a["id"])]
    client = detail["client"]
    tz = client_timezone(client.get("postal_code"))
    fiche_status = {i["field"]: i for i in detail["fiche"]}
    for rec in trail:
        rec["label"] = L.audit_action(rec["action"])
        rec["who"] = L.actor(rec["actor"])
        rec["lines"] = _changes_text(rec["changes"])
    return {
        "detail": detail, "case": detail["case"], "client": client, "version": detail["version"],
        "closed": detail["case"]["state"] == State.CLOTURE.value,
        "client_tz": tz, "calling": calling_status(snap, now), "trail": list(reversed(trail)),
        "fields": _form_fields(client["kind"]), "fiche_status": fiche_status,
        "advisors": advisors, "all_advisors": all_advisors, "agencies": agencies,
        "labels": L.ALL, "now": now, "today": today, "default_due": today + timedelta(days=7),
        "closing_events": {"enregistrer_refus", "classer_sans_suite", "declarer_injoignable"},
        "escalation_events": {"envoyer_email", "envoyer_courrier"},
        "health_reminder": "Aucune donnée de santé (RGPD art. 9)",
        "problem": None, "problem_at": None, "message": None, "message_at": None,
        "advisor_name": next((a["name"] for a in all_advisors + advisors
                              if a["id"] == detail["case"].get("assigned_advisor_id")), None),
    }


@router.get("")
async def show(request: Request, case_id: CaseId, user: PageUser):
    now = request.app.state.clock()
    ctx = await run_in_threadpool(load_view, request.app.state.engine, user, case_id, now)
    return render(request, "case/page.html", ctx, block="case_body")


# ---------------------------------------------------------------- the actions
@dataclass(frozen=True)
class Ctx:
    """What a builder may read besides the form."""

    user: User
    now: datetime
    case_id: int
    engine: Any

    def client(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            detail = case_detail(conn, self.case_id, self.now.astimezone(PARIS).date(), self.now, _tolerance())
        if detail is None or not self.user.sees(detail["case"]["agency_id"]):
            raise access.not_found(self.case_id)
        return detail["client"]

    def tz(self) -> ZoneInfo:
        return client_timezone(self.client().get("postal_code"))


@dataclass(frozen=True)
class Action:
    section: str  # the section that shows the result (its id on the page)
    build: Callable[[FormData, Ctx], Command]
    done: str  # the message shown once it is recorded
    permission: str = "cases.write"


def _enum(cls, value: str | None, name: str, what: str):
    try:
        return cls(value)
    except ValueError:
        raise F.FormError({name: f"{what} inconnu(e)"}) from None


def _same(kind: str, current: Any, new: str | None) -> bool:
    if current is None or current == "":
        return new is None
    if new is None:
        return False
    if kind == "number":
        try:
            return Decimal(str(current)) == Decimal(new)
        except InvalidOperation:
            return False
    return str(current) == new


def build_fiche(form: FormData, ctx: Ctx) -> Command:
    client = ctx.client()
    data: dict[str, Any] = {}
    for name, _label, kind, _choices in _form_fields(client["kind"]):
        if kind == "checkbox":
            new_bool = F.checkbox(form, name)
            if new_bool != bool(client.get(name)):
                data[name] = new_bool
            continue
        if name not in form:
            continue
        new = F.text(form, name)
        if not _same(kind, client.get(name), new):
            data[name] = new
    if not data:
        raise F.NothingToDo("Aucune modification de la fiche.")
    reason = F.text(form, "reason")
    model = F.validate(ClientCorrection, {**data, "reason": reason})
    changes = model.model_dump(exclude_unset=True, exclude={"reason"})
    return CorrectClient(changes, reason)


def build_assignment(form: FormData, ctx: Ctx) -> Command:
    agency = F.required(form, "agency_id", "Agence")
    advisor = F.integer(form, "advisor_id", "Chargé de clientèle")
    if not ctx.user.sees(agency):  # as the JSON route: an agency outside the user's scope
        raise F.FormError({"agency_id": "agence hors de votre périmètre"})
    return ConfirmAssignment(agency, advisor)


def build_attempt(form: FormData, ctx: Ctx) -> Command:
    outcome_raw = F.required(form, "outcome", "Résultat de l'appel")
    kind = F.text(form, "basis") or "solicitation"
    direction, basis, appointment_id = Direction.OUTBOUND, CallBasis.SOLICITATION, None
    if outcome_raw == "inbound":  # the "Appel entrant" button: the client rang and was reached
        outcome_raw, kind = AttemptOutcome.REACHED.value, "inbound"
    outcome = _enum(AttemptOutcome, outcome_raw, "outcome", "Résultat")
    if kind == "inbound":
        direction, basis = Direction.INBOUND, None
    elif kind.startswith("appointment:"):
        basis = CallBasis.APPOINTMENT
        appointment_id = F.integer({"a": kind.partition(":")[2]}, "a", "Rendez-vous")
    elif kind != "solicitation":
        raise F.FormError({"basis": "type d'appel inconnu"})
    at = F.moment(form, "at", None, ctx.tz(), "Heure de l'appel", required_=False) or ctx.now
    s = get_settings()
    return RecordAttempt(Channel.PHONE, at, outcome, ctx.user.advisor_id, direction=direction, basis=basis,
                         appointment_id=appointment_id, tolerance=_tolerance(),
                         pieces_due_days=getattr(s, "pieces_due_days", 7))


def _appointment_advisor(form: FormData, ctx: Ctx) -> int | None:
    return F.integer(form, "advisor_id", "Chargé de clientèle", required_=False) or ctx.user.advisor_id


def build_book(form: FormData, ctx: Ctx) -> Command:
    at = F.moment(form, "date", "time", ctx.tz(), "Rendez-vous")
    channel = _enum(AppointmentChannel, F.text(form, "channel") or "phone", "channel", "Canal")
    if not F.checkbox(form, "client_agreed"):
        raise F.FormError({"client_agreed": "cochez l'accord du client : il est la preuve de son consentement "
                                            "(D223-9)"})
    return BookAppointment(at, channel, True, _appointment_advisor(form, ctx))


def build_move(form: FormData, ctx: Ctx) -> Command:
    appointment_id = F.integer(form, "appointment_id", "Rendez-vous")
    at = F.moment(form, "date", "time", ctx.tz(), "Nouvelle date")
    return MoveAppointment(appointment_id, at, reason=F.text(form, "reason"))


def build_cancel(form: FormData, ctx: Ctx) -> Command:
    return CancelAppointment(F.integer(form, "appointment_id", "Rendez-vous"),
                             F.required(form, "reason", "Motif de l'annulation"))


def build_requirement(form: FormData, ctx: Ctx) -> Command:
    status = _enum(RequirementStatus, F.required(form, "status", "Statut"), "status", "Statut")
    reason = F.text(form, "waiver_reason")
    if status is RequirementStatus.WAIVED and not reason:
        raise F.FormError({"waiver_reason": "une dispense doit être motivée"})
    return SetRequirement(F.required(form, "contract_id", "Contrat"), F.required(form, "code", "Pièce"), status,
                          reason if status is RequirementStatus.WAIVED else None)


def build_inventory(form: FormData, ctx: Ctx) -> Command:
    body = F.validate(InventoryIn, {"family": F.text(form, "family"), "product": F.text(form, "product"),
                                    "held": F.text(form, "held"), "insurer": F.text(form, "insurer"),
                                    "renewal_date": F.text(form, "renewal_date")})
    return AddInventoryLine(body.family, body.product, body.held, body.insurer, body.renewal_date)


def build_nothing_elsewhere(form: FormData, ctx: Ctx) -> Command:
    return SetNothingElsewhere(F.checkbox(form, "value"))


def build_outcome(form: FormData, ctx: Ctx) -> Command:
    body = F.validate(OutcomeIn, {"kind": F.text(form, "kind"), "detail": F.text(form, "detail"),
                                  "client_decision": F.text(form, "client_decision"),
                                  "answer": F.text(form, "answer")})
    return AddOutcome(body.kind, body.detail, body.client_decision, answer=body.answer)


def build_update_outcome(form: FormData, ctx: Ctx) -> Command:
    decision = _enum(ClientDecision, F.required(form, "client_decision", "Décision du client"), "client_decision",
                     "Décision")
    return UpdateOutcome(F.integer(form, "outcome_id", "Résultat"), client_decision=decision)


def build_accept(form: FormData, ctx: Ctx) -> Command:
    code = F.required(form, "code", "Suggestion")
    decision = F.text(form, "client_decision")
    devis = None
    if F.checkbox(form, "create_devis"):
        owner = F.integer(form, "owner_id", "Responsable du devis", required_=False) or ctx.user.advisor_id
        if owner is None:
            raise F.FormError({"owner_id": "indiquez le responsable du devis"})
        devis = DevisRequest(owner, F.day(form, "due_date", "Échéance du devis"), F.text(form, "label"))
    return AcceptSuggestion(code, F.text(form, "detail"),
                            _enum(ClientDecision, decision, "client_decision", "Décision") if decision else None,
                            devis)


def build_dismiss(form: FormData, ctx: Ctx) -> Command:
    return DismissSuggestion(F.required(form, "code", "Suggestion"), F.required(form, "reason", "Motif"))


def build_prefill(form: FormData, ctx: Ctx) -> Command:
    return PrefillInventory()


def build_send_bilan(form: FormData, ctx: Ctx) -> Command:
    return SendBilan(F.integer(form, "seq", "Bilan"), F.text(form, "to"))


def build_action(form: FormData, ctx: Ctx) -> Command:
    kind = _enum(ActionKind, F.required(form, "kind", "Type d'action"), "kind", "Type d'action")
    owner = F.integer(form, "owner_id", "Responsable", required_=False) or ctx.user.advisor_id
    due = F.day(form, "due_date", "Échéance")
    label = F.text(form, "label")
    if label and len(label) > 200:
        raise F.FormError({"label": "200 caractères au plus"})
    return AddAction(kind, owner, due, label)


def build_update_action(form: FormData, ctx: Ctx) -> Command:
    action_id = F.integer(form, "action_id", "Action")
    status = F.text(form, "status")
    devis = F.text(form, "devis_status")
    due = F.day(form, "due_date", "Nouvelle échéance", required_=False)
    if status is None and due is None and devis is None:
        raise F.FormError({"due_date": "indiquez la nouvelle échéance"})
    return UpdateAction(action_id, _enum(ActionStatus, status, "status", "Statut") if status else None,
                        None, due, _enum(DevisStatus, devis, "devis_status", "Statut du devis") if devis else None)


def build_event(form: FormData, ctx: Ctx) -> Command:
    event = F.required(form, "event", "Étape")
    if event not in EVENTS:
        raise F.FormError({"event": f"étape inconnue : {event}"})
    return FireEvent(event, F.text(form, "reason"))


def build_note(form: FormData, ctx: Ctx) -> Command:
    return AddNote(F.text(form, "text") or "", ctx.user.actor,
                   max_chars=getattr(get_settings(), "note_max_chars", 4000))


def build_topic(form: FormData, ctx: Ctx) -> Command:
    kind = _enum(TopicKind, F.required(form, "kind", "Type"), "kind", "Type")
    return AddTopic(kind, F.day(form, "occurred_on", "Date"), F.text(form, "summary") or "", ctx.user.actor,
                    answer=F.text(form, "answer"), max_chars=getattr(get_settings(), "note_max_chars", 4000))


def build_answer(form: FormData, ctx: Ctx) -> Command:
    return AnswerTopic(F.integer(form, "topic_id", "Sujet"), F.text(form, "answer") or "",
                       max_chars=getattr(get_settings(), "note_max_chars", 4000))


ACTIONS: dict[str, Action] = {
    "fiche": Action("fiche", build_fiche, "Fiche client enregistrée."),
    "affectation": Action("fiche", build_assignment, "Agence et chargé de clientèle confirmés."),
    "appel": Action("appel", build_attempt, "Appel enregistré."),
    "rdv": Action("appel", build_book, "Rendez-vous enregistré."),
    "rdv-deplacer": Action("appel", build_move, "Rendez-vous déplacé."),
    "rdv-annuler": Action("appel", build_cancel, "Rendez-vous annulé."),
    "piece": Action("contrats", build_requirement, "Signature ou pièce enregistrée."),
    "inventaire": Action("bilan", build_inventory, "Ligne d'inventaire ajoutée."),
    "rien-ailleurs": Action("bilan", build_nothing_elsewhere, "Inventaire « ailleurs » mis à jour."),
    "resultat": Action("bilan", build_outcome, "Résultat du bilan ajouté."),
    "resultat-maj": Action("bilan", build_update_outcome, "Décision du client enregistrée."),
    "suggestion-retenir": Action("bilan", build_accept, "Suggestion retenue : c'est un besoin du client."),
    "suggestion-ecarter": Action("bilan", build_dismiss, "Suggestion écartée, avec son motif."),
    "inventaire-contrats": Action("bilan", build_prefill, "Contrats chez nous ajoutés à l'inventaire."),
    "bilan-envoyer": Action("bilan", build_send_bilan, "Bilan envoyé au client par email."),
    "action": Action("actions", build_action, "Action planifiée."),
    "action-maj": Action("actions", build_update_action, "Action mise à jour."),
    "etape": Action("etapes", build_event, "Étape franchie."),
    "note": Action("notes", build_note, "Note ajoutée."),
    "sujet": Action("script", build_topic, "Sinistre ou question enregistré."),
    "sujet-reponse": Action("script", build_answer, "Réponse enregistrée."),
}


def _version(form: FormData) -> int:
    value = F.text(form, "version")
    if value is None or not value.isdigit() or len(value) > 9:
        raise Problem(428, "if_match_required", "version du dossier manquante : rechargez la page")
    return int(value)


def _run(engine, user: User, case_id: int, action: Action, form: FormData, now: datetime) -> ChangeResult | Problem:
    ctx = Ctx(user, now, case_id, engine)
    version = _version(form)
    try:
        cmd = action.build(form, ctx)
    except F.FormError as exc:
        return Problem(422, "invalid_change", exc.args[0] if exc.args else "formulaire invalide",
                       errors=[{"field": k, "message": v} for k, v in exc.errors.items()])
    return access.try_change(engine, user, case_id, version, cmd, now, action.permission)


def _message(action: Action, result: ChangeResult) -> str:
    msg = action.done
    if result.action in EVENTS:
        msg = f"« {EVENTS[result.action].label} » : le dossier est maintenant « {state_label(result.state)} »."
    elif result.state == State.CLOTURE.value and "case.state" in result.changes:
        msg += " Le dossier est clôturé."
    return msg


@router.post("/{name}")
async def act(request: Request, case_id: CaseId, name: str, user: PageUser):
    form = await form_of(request)
    action = ACTIONS.get(name)
    if action is None:
        raise Problem(404, "not_found", "action inconnue")
    engine, now = request.app.state.engine, request.app.state.clock()
    try:
        outcome = await run_in_threadpool(_run, engine, user, case_id, action, form, now)
    except F.NothingToDo as exc:
        outcome = None
        message = str(exc)
    if isinstance(outcome, Problem):
        return await _refused(request, engine, user, case_id, now, action, outcome)
    if outcome is not None:
        message = _message(action, outcome)
    if not is_htmx(request):
        flash(request, message)
        return redirect(f"/dossiers/{case_id}#{action.section}")
    ctx = await run_in_threadpool(load_view, engine, user, case_id, now)
    ctx.update(message=message, message_at=action.section)
    return render(request, "case/page.html", ctx, block="case_body")


async def _refused(request: Request, engine, user: User, case_id: int, now: datetime, action: Action, p: Problem):
    stale = p.code == "version_conflict"
    if p.status == 404 or p.status == 403 and p.code != "csrf":
        raise p  # not yours or not allowed: the error page
    if is_htmx(request):
        target = "#notice" if stale else f"#msg-{action.section}"
        return render(request, "case/_problem.html", {"problem": problem_context(p), "case_id": case_id,
                                                      "stale": stale},
                      status_code=p.status, headers={"HX-Retarget": target, "HX-Reswap": "innerHTML"})
    ctx = await run_in_threadpool(load_view, engine, user, case_id, now)
    ctx.update(problem=problem_context(p), problem_at="notice" if stale else action.section, stale=stale)
    return render(request, "case/page.html", ctx, status_code=p.status)
