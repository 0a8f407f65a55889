"""Recording the work on a case: client record, assignment, attempts, documents, bilan, actions.

Each route is one command of states.commands through the one write path; If-Match is required.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.access import change, check_case
from api.deps import CurrentUser, EngineDep, NowDep, VersionDep
from api.errors import Problem
from api.openapi import WRITE, op
from api.routes.appointments import tolerance
from config import get_settings
from api.schemas import (
    ActionIn, ActionPatch, AssignmentIn, AttemptIn, ChangeOut, ClientCorrection, InventoryIn, NO_NUL,
    NothingElsewhereIn, OutcomeIn, RequirementIn,
)
from states.commands import (
    AddAction, AddInventoryLine, AddOutcome, ConfirmAssignment, CorrectClient, RecordAttempt, SetNothingElsewhere,
    SetRequirement, UpdateAction,
)

router = APIRouter(prefix="/cases/{case_id}", tags=["travail sur le dossier"])
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Key = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL)]
_OUT = dict(response_model=ChangeOut)
_W = dict(permission="cases.write")


@router.patch("/client", summary="Corriger la fiche client",
              description="Seuls les champs envoyés sont corrigés ; `null` efface un champ. Téléphone, email, "
                          "SIRET, NAF et code postal sont validés et normalisés (422 `invalid_change` avec le "
                          "motif de chaque champ refusé). Chaque correction est journalisée avant/après, avec "
                          "`reason`, et repartira vers le CRM dans l'export des corrections.",
              **_OUT, **op("correctClient", *WRITE, **_W))
def correct_client(case_id: CaseId, body: ClientCorrection, user: CurrentUser, engine: EngineDep, now: NowDep,
                   version: VersionDep, response: Response) -> dict:
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    if not changes:
        raise Problem(422, "invalid_payload", "aucun champ à corriger",
                      errors=[{"field": "body", "message": "au moins un champ"}])
    return change(engine, user, case_id, version, CorrectClient(changes, body.reason), now, response)


@router.post("/assignment/confirm", summary="Confirmer l'agence et le chargé de clientèle",
             description="Une condition de « Valider la fiche ». Le chargé de clientèle doit être actif dans "
                         "l'agence ; une agence hors du périmètre de l'utilisateur répond 422 `invalid_change`.",
             **_OUT, **op("confirmAssignment", *WRITE, **_W))
def confirm_assignment(case_id: CaseId, body: AssignmentIn, user: CurrentUser, engine: EngineDep, now: NowDep,
                       version: VersionDep, response: Response) -> dict:
    check_case(engine, user, case_id, "cases.write")
    if not user.sees(body.agency_id):
        raise Problem(422, "invalid_change", "agence hors de votre périmètre",
                      errors=[{"field": "agency_id", "message": "agence hors de votre périmètre"}])
    return change(engine, user, case_id, version, ConfirmAssignment(body.agency_id, body.advisor_id), now, response)


@router.post("/attempts", summary="Enregistrer une tentative de contact",
             description="Sans `direction` ni `basis`, un appel est une sollicitation sortante : hors des règles "
                         "(D223-9, trop tôt dans la fenêtre) il répond 422 `calling_rules` avec chaque motif. Un "
                         "appel entrant, ou à un rendez-vous accepté (`basis: appointment`, `appointment_id`), est "
                         "enregistré quelle que soit l'heure. Un refus clôt le dossier (refus) ; les pièces "
                         "manquantes restent une action « pièces à obtenir ».",
             **_OUT, **op("recordAttempt", *WRITE, **_W))
def record_attempt(case_id: CaseId, body: AttemptIn, user: CurrentUser, engine: EngineDep, now: NowDep,
                   version: VersionDep, response: Response, request: Request) -> dict:
    cmd = RecordAttempt(body.channel, body.at or now, body.outcome, body.advisor_id or user.advisor_id,
                        direction=body.direction, basis=body.basis, appointment_id=body.appointment_id,
                        tolerance=tolerance(request), pieces_due_days=get_settings().pieces_due_days)
    return change(engine, user, case_id, version, cmd, now, response)


@router.put("/contracts/{contract_id}/requirements/{code}", summary="Signature ou pièce : reçue, validée, dispensée",
            description="Les codes sont ceux de states/data/requirements.toml (`dp`, `devis`, `carte_grise`, "
                        "`permis`…) exigés par le produit du contrat. Une dispense (`waived`) exige son motif "
                        "(`waiver_reason`). Toutes reçues ou dispensées : « Contrats finalisés » devient possible.",
            **_OUT, **op("setRequirement", *WRITE, **_W))
def set_requirement(case_id: CaseId, contract_id: Key, code: Key, body: RequirementIn, user: CurrentUser,
                    engine: EngineDep, now: NowDep, version: VersionDep, response: Response) -> dict:
    cmd = SetRequirement(contract_id, code, body.status, body.waiver_reason)
    return change(engine, user, case_id, version, cmd, now, response)


@router.post("/inventory", summary="Ajouter une ligne d'inventaire (bilan)",
             description="Un contrat du client, chez nous ou ailleurs (avec l'assureur et l'échéance) : "
                         "l'inventaire dont le bilan tire ses suggestions.",
             **_OUT, **op("addInventoryLine", *WRITE, **_W))
def add_inventory(case_id: CaseId, body: InventoryIn, user: CurrentUser, engine: EngineDep, now: NowDep,
                  version: VersionDep, response: Response) -> dict:
    cmd = AddInventoryLine(body.family, body.product, body.held, body.insurer, body.renewal_date)
    return change(engine, user, case_id, version, cmd, now, response)


@router.put("/nothing-elsewhere", summary="Indiquer que le client n'a rien ailleurs",
            description="Ce que « Bilan fait » exige sans ligne « ailleurs » dans l'inventaire : la question a été "
                        "posée. `value: false` revient dessus.",
            **_OUT, **op("setNothingElsewhere", *WRITE, **_W))
def nothing_elsewhere(case_id: CaseId, body: NothingElsewhereIn, user: CurrentUser, engine: EngineDep,
                      now: NowDep, version: VersionDep, response: Response) -> dict:
    return change(engine, user, case_id, version, SetNothingElsewhere(body.value), now, response)


@router.post("/outcomes", summary="Ajouter un résultat du bilan",
             description="Un besoin complémentaire porte son détail (ou `suggestion_code` : la suggestion est alors "
                         "retenue) ; une question technique sa réponse ; la décision du client (`client_decision`) "
                         "est exigée pour chaque besoin et changement de situation avant « Bilan fait ».",
             **_OUT, **op("addOutcome", *WRITE, **_W))
def add_outcome(case_id: CaseId, body: OutcomeIn, user: CurrentUser, engine: EngineDep, now: NowDep,
                version: VersionDep, response: Response) -> dict:
    cmd = AddOutcome(body.kind, body.detail, body.client_decision, body.suggestion_code, body.answer, body.topic_id,
                     body.action_id, body.correction_seq)
    return change(engine, user, case_id, version, cmd, now, response)


@router.post("/actions", summary="Planifier une action",
             description="Échéance obligatoire ; responsable : un chargé de clientèle actif de l'agence du dossier "
                         "(défaut : celui de l'utilisateur). Un devis commence « proposé ».",
             **_OUT, **op("addAction", *WRITE, **_W))
def add_action(case_id: CaseId, body: ActionIn, user: CurrentUser, engine: EngineDep, now: NowDep,
               version: VersionDep, response: Response) -> dict:
    cmd = AddAction(body.kind, body.owner_id or user.advisor_id, body.due_date, body.label, body.outcome_id)
    return change(engine, user, case_id, version, cmd, now, response)


@router.patch("/actions/{action_id}", summary="Terminer, annuler ou replanifier une action",
              description="`status` termine (`done`) ou annule (`cancelled`) ; `due_date` et `owner_id` "
                          "replanifient ; `devis_status` fait avancer un devis (signé ou refusé le termine).",
              **_OUT, **op("updateAction", *WRITE, **_W))
def update_action(case_id: CaseId, action_id: Annotated[int, Path(ge=1, le=2_147_483_647)], body: ActionPatch,
                  user: CurrentUser, engine: EngineDep, now: NowDep, version: VersionDep, response: Response) -> dict:
    cmd = UpdateAction(action_id, body.status, body.owner_id, body.due_date, body.devis_status)
    return change(engine, user, case_id, version, cmd, now, response)
