"""Notes, claims and questions on a case, and its call script.

Writes are commands of states/notes.py through the one write path (If-Match required), audited
with their text. Free text never carries a health detail (RGPD art. 9): every answer that lists
notes repeats the reminder, and the pages show it next to the field.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.access import change, check_case, not_found
from api.deps import CurrentUser, EngineDep, NowDep, VersionDep, local_today
from api.openapi import READ_CASE, WRITE, op
from api.queries.notes import notes_of
from api.schemas import ChangeOut, NoteIn, TopicAnswerIn, TopicIn
from config import get_settings
from notifications import call_script
from states.commands import AddNote, AddTopic, AnswerTopic
from states.notes import HEALTH_REMINDER

router = APIRouter(prefix="/cases/{case_id}", tags=["notes, sinistres et questions"])
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]
TopicId = Annotated[int, Path(ge=1, le=2_147_483_647)]
_OUT = dict(response_model=ChangeOut)
_W = dict(permission="cases.write")
_REMINDER = f"**{HEALTH_REMINDER}** : ni diagnostic, ni traitement, ni état de santé dans le texte."


@router.get("/notes", summary="Les notes du dossier, les plus récentes d'abord", description=_REMINDER,
            **op("listNotes", *READ_CASE, permission="cases.read"))
def list_notes(case_id: CaseId, user: CurrentUser, engine: EngineDep) -> dict:
    check_case(engine, user, case_id, "cases.read")
    with engine.connect() as conn:
        return {"reminder": HEALTH_REMINDER, "items": notes_of(conn, case_id)}


@router.post("/notes", summary="Écrire une note", description=_REMINDER + " Une note n'est jamais modifiée : "
             "une correction est une nouvelle note. Le texte figure dans le journal d'audit.",
             **_OUT, **op("addNote", *WRITE, **_W))
def add_note(case_id: CaseId, body: NoteIn, user: CurrentUser, engine: EngineDep, now: NowDep,
             version: VersionDep, response: Response) -> dict:
    cmd = AddNote(body.text, user.actor, max_chars=get_settings().note_max_chars)
    return change(engine, user, case_id, version, cmd, now, response)


@router.post("/topics", summary="Noter un sinistre ou une question depuis la souscription",
             description=_REMINDER + " Sans réponse, l'entrée reste « en cours ».",
             **_OUT, **op("addTopic", *WRITE, **_W))
def add_topic(case_id: CaseId, body: TopicIn, user: CurrentUser, engine: EngineDep, now: NowDep,
              version: VersionDep, response: Response) -> dict:
    cmd = AddTopic(body.kind, body.occurred_on or local_today(now), body.summary, user.actor, body.answer,
                   max_chars=get_settings().note_max_chars)
    return change(engine, user, case_id, version, cmd, now, response)


@router.post("/topics/{topic_id}/answer", summary="Répondre à une question (ou clore un sinistre)",
             description=_REMINDER + " La réponse est obligatoire ; l'entrée devient « répondue ».",
             **_OUT, **op("answerTopic", *WRITE, **_W))
def answer_topic(case_id: CaseId, topic_id: TopicId, body: TopicAnswerIn, user: CurrentUser, engine: EngineDep,
                 now: NowDep, version: VersionDep, response: Response) -> dict:
    cmd = AnswerTopic(topic_id, body.answer, max_chars=get_settings().note_max_chars)
    return change(engine, user, case_id, version, cmd, now, response)


@router.get("/script", summary="Le script d'appel du dossier",
            description="Le modèle de l'agence (`$M3_DATA_DIR/scripts/<agence>.md.j2`, Markdown), rendu pour ce "
                        "dossier, précédé de la présentation obligatoire (art. L221-16). Un modèle qui ne se rend "
                        "pas laisse place au script par défaut, avec l'erreur dans `error`. Avec les sinistres et "
                        "questions depuis la souscription (`topics`).",
            **op("getCallScript", *READ_CASE, permission="cases.read"))
def get_script(case_id: CaseId, user: CurrentUser, engine: EngineDep) -> dict:
    check_case(engine, user, case_id, "cases.read")
    with engine.connect() as conn:
        script = call_script.for_case(conn, case_id)
    if script is None:
        raise not_found(case_id)
    return script
