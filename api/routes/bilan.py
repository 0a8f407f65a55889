"""The bilan: gap suggestions (accept, dismiss), outcomes completed, the inventory pre-filled, the
frozen records (JSON, PDF) and their sending by email. Writes go through the one write path."""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from fastapi.responses import JSONResponse

from api.access import check_case, perform, render
from api.deps import CurrentUser, EngineDep, NowDep, VersionDep, local_today
from api.errors import Problem
from api.openapi import READ_CASE, WRITE, op
from api.queries import bilan as queries
from api.schemas import AcceptIn, ChangeOut, DismissIn, OutcomePatch, SendBilanIn
from notifications.bilan_pdf import filename
from states import gaps
from states.commands import (
    AcceptSuggestion, DevisRequest, DismissSuggestion, PrefillInventory, SendBilan, UpdateOutcome,
)
from store.snapshot import case_row

router = APIRouter(prefix="/cases/{case_id}", tags=["bilan"])
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Seq = Annotated[int, Path(ge=1, le=10_000, description="N° du bilan dans le dossier")]
Code = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$", description="Code de la suggestion (ex. habitation)")]
_OUT = dict(response_model=ChangeOut)
_W = dict(permission="cases.write")


def _with(result, **extra) -> JSONResponse:
    base = render(result)
    return JSONResponse({**json.loads(base.body), **extra}, headers={"ETag": base.headers["ETag"]})


@router.get("/suggestions", summary="Situation du client et suggestions du bilan (manques logiques)",
            description="La situation déduite de la fiche (foyer, logement, véhicules, statut professionnel), puis "
                        "chaque suggestion des règles de states/data/gap_rules.toml qui s'applique, avec ses "
                        "motifs et ce qui en a été décidé (retenue, écartée avec son motif), et les suggestions "
                        "décidées qui ne s'appliquent plus.",
            **op("getSuggestions", *READ_CASE, permission="cases.read"))
def suggestions(case_id: CaseId, user: CurrentUser, engine: EngineDep) -> dict:
    check_case(engine, user, case_id, "cases.read")
    with engine.connect() as conn:
        return queries.suggestions_of(conn, case_id)


@router.post("/suggestions/{code}/accept", summary="Retenir une suggestion : elle devient un besoin",
             description="Crée le besoin (résultat `complementary_need` lié à la suggestion). Avec `create_devis`, "
                         "planifie le devis dans la même écriture (responsable par défaut : le chargé de clientèle "
                         "du dossier ; échéance par défaut : dans 7 jours). Sans lui, la réponse propose ce devis "
                         "(`devis_proposal`), à envoyer tel quel ou modifié à POST /actions avec `outcome_id`.",
             **_OUT, **op("acceptSuggestion", *WRITE, **_W))
def accept(case_id: CaseId, code: Code, user: CurrentUser, engine: EngineDep, now: NowDep, version: VersionDep,
           body: Annotated[AcceptIn | None, Body()] = None) -> JSONResponse:
    body = body or AcceptIn()
    check_case(engine, user, case_id, "cases.write")
    with engine.connect() as conn:
        row = case_row(conn, case_id)
    owner = row.assigned_advisor_id if row is not None else None
    due = gaps.devis_due(local_today(now))
    product = gaps.rules().suggestions.get(code, {}).get("product", code)
    devis = None
    if body.create_devis is not None:
        d = body.create_devis
        devis = DevisRequest(d.owner_id or owner, d.due_date or due, d.label)
    result = perform(engine, user, case_id, version, AcceptSuggestion(code, body.detail, body.client_decision, devis),
                     now)
    outcome_id = result.changes["outcome"][1]["id"]
    proposal = None if devis is not None else {
        "kind": "devis", "owner_id": owner, "due_date": due.isoformat(), "label": f"Devis {product}",
        "outcome_id": outcome_id}
    return _with(result, outcome_id=outcome_id, devis_proposal=proposal)


@router.post("/suggestions/{code}/dismiss", summary="Écarter une suggestion, avec son motif",
             description="Le motif (obligatoire) figure au bilan et au journal d'audit : la preuve du conseil "
                         "donné (DDA). Une suggestion écartée ne revient pas.",
             **_OUT, **op("dismissSuggestion", *WRITE, **_W))
def dismiss(case_id: CaseId, code: Code, body: DismissIn, user: CurrentUser, engine: EngineDep, now: NowDep,
            version: VersionDep) -> JSONResponse:
    return render(perform(engine, user, case_id, version, DismissSuggestion(code, body.reason), now))


@router.patch("/outcomes/{outcome_id}", summary="Compléter un résultat du bilan",
              description="Décision du client, détail, réponse, liens (devis, avenant, correction de la fiche).",
              **_OUT, **op("updateOutcome", *WRITE, **_W))
def update_outcome(case_id: CaseId, outcome_id: Annotated[int, Path(ge=1, le=2_147_483_647)], body: OutcomePatch,
                   user: CurrentUser, engine: EngineDep, now: NowDep, version: VersionDep) -> JSONResponse:
    cmd = UpdateOutcome(outcome_id, body.client_decision, body.detail, body.answer, body.topic_id, body.action_id,
                        body.correction_seq)
    return render(perform(engine, user, case_id, version, cmd, now))


@router.post("/inventory/prefill", summary="Ajouter à l'inventaire les contrats actifs du client (chez nous)",
             description="Ce que fait « Contrats finalisés » à l'ouverture du bilan ; à refaire pour un contrat "
                         "arrivé depuis. 422 si chaque contrat actif y figure déjà.",
             **_OUT, **op("prefillInventory", *WRITE, **_W))
def prefill(case_id: CaseId, user: CurrentUser, engine: EngineDep, now: NowDep, version: VersionDep) -> JSONResponse:
    return render(perform(engine, user, case_id, version, PrefillInventory(), now))


@router.get("/bilans", summary="Les bilans figés du dossier",
            description="Chaque bilan figé à « Bilan fait » (n° `seq`, date, auteur, empreinte `content_sha256`, "
                        "envoi au client `sent_at`/`sent_to`, lien du PDF), du premier au dernier ; le contenu est "
                        "dans GET /bilans/{seq}.",
            **op("listBilans", *READ_CASE, permission="cases.read"))
def list_bilans(case_id: CaseId, user: CurrentUser, engine: EngineDep) -> list[dict]:
    check_case(engine, user, case_id, "cases.read")
    with engine.connect() as conn:
        return queries.records(conn, case_id)


def _not_found(case_id: int, seq: int) -> Problem:
    return Problem(404, "bilan_not_found", f"bilan n° {seq} introuvable dans le dossier {case_id}",
                   case_id=case_id, seq=seq)


# Declared before /bilans/{seq}: "1.pdf" is no bilan number.
@router.get("/bilans/{seq}.pdf", summary="Le bilan figé en PDF (pour le dossier client, à imprimer)",
            description="Le document remis au client (support durable), rendu depuis le contenu figé du bilan, "
                        "sur l'en-tête de l'agence.",
            response_class=Response, **op("getBilanPdf", *READ_CASE, "bilan_not_found", permission="cases.read",
                                          success={200: {"content": {"application/pdf": {}}}}))
def bilan_pdf(case_id: CaseId, seq: Seq, user: CurrentUser, engine: EngineDep) -> Response:
    check_case(engine, user, case_id, "cases.read")
    with engine.connect() as conn:
        data = queries.pdf(conn, case_id, seq)
    if data is None:
        raise _not_found(case_id, seq)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename(case_id, seq)}"'})


@router.get("/bilans/{seq}", summary="Un bilan figé : son contenu, jamais modifié",
            description="Ce qui a été constaté et conseillé au moment de « Bilan fait » : situation, inventaire "
                        "chez nous / ailleurs, besoins, changements de situation, questions, conseils (suggestions "
                        "et décisions), avec son empreinte (ancrée dans le journal d'audit).",
            **op("getBilan", *READ_CASE, "bilan_not_found", permission="cases.read"))
def get_bilan(case_id: CaseId, seq: Seq, user: CurrentUser, engine: EngineDep) -> dict:
    check_case(engine, user, case_id, "cases.read")
    with engine.connect() as conn:
        found = queries.record(conn, case_id, seq)
    if found is None:
        raise _not_found(case_id, seq)
    return found


@router.post("/bilans/{seq}/send", summary="Envoyer le bilan au client par email (support durable)",
             description="Met en file un email de service, le PDF joint, à l'adresse du client (ou `to`) ; "
                         "l'envoi est journalisé et noté sur le bilan (sent_at, sent_to). Possible après la "
                         "clôture.", **_OUT, **op("sendBilan", *WRITE, **_W))
def send(case_id: CaseId, seq: Seq, user: CurrentUser, engine: EngineDep, now: NowDep, version: VersionDep,
         body: Annotated[SendBilanIn | None, Body()] = None) -> JSONResponse:
    return render(perform(engine, user, case_id, version, SendBilan(seq, body.to if body else None), now))
