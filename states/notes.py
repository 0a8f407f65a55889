"""Notes, claims (*sinistres*) and questions on a case: pure decisions, audited with their text.

A note is free text the advisor writes during or after the call; it is never edited (a
correction is a new note), and its text is in the audit record. Free text must never carry a
health detail (RGPD art. 9: a health questionnaire is a status, not content): the API, the
pages and this module's callers show `HEALTH_REMINDER` next to every note field.

Claims and questions since the subscription (step 2 of the process, "Préparation de la
relance") are entries with the date they occurred, a summary and a status: open until an
answer is recorded (`AnswerTopic`, the answer is required), answered after. A question
answered during the call can be recorded answered at once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from states.calendar import PARIS
from states.commands import AddNote, AddTopic, AnswerTopic
from states.effects import Effects, Insert, Row, Update
from states.errors import InvalidChange
from states.records import CaseSnapshot, TopicKind, TopicStatus

HEALTH_REMINDER = "Aucune donnée de santé (RGPD art. 9)"
TOPIC_KIND_LABELS = {TopicKind.SINISTRE: "Sinistre", TopicKind.QUESTION: "Question"}
TOPIC_STATUS_LABELS = {TopicStatus.OPEN: "En cours", TopicStatus.ANSWERED: "Répondu"}


_FEMININE = {"note", "réponse"}


def clean_text(value: str | None, field_name: str, max_chars: int, what: str = "texte") -> str:
    """The text, stripped; InvalidChange when it is obviously empty (no letter or digit: "",
    "  ", "...", "-") or longer than `max_chars`."""
    text = (value or "").strip()
    if not any(ch.isalnum() for ch in text):
        raise InvalidChange({field_name: f"{what} vide"})
    if len(text) > max_chars:
        long = "trop longue" if what in _FEMININE else "trop long"
        raise InvalidChange({field_name: f"{what} {long} ({len(text)} caractères, maximum {max_chars})"})
    return text


def _today(now: datetime):
    return now.astimezone(PARIS).date()


def add_note(case: CaseSnapshot, cmd: AddNote, now: datetime) -> Effects:
    text = clean_text(cmd.text, "text", cmd.max_chars, "note")
    fx = Effects(action="add_note")
    fx.inserts.append(Insert(Row.NOTE, {"text": text, "author": cmd.author, "created_at": now}))
    fx.changes["note"] = [None, {"text": text, "author": cmd.author}]
    return fx


def add_topic(case: CaseSnapshot, cmd: AddTopic, now: datetime) -> Effects:
    try:
        kind = TopicKind(cmd.kind)
    except ValueError:
        raise InvalidChange({"kind": f"type inconnu {cmd.kind!r} (sinistre ou question)"}) from None
    errors: dict[str, str] = {}
    if cmd.occurred_on > _today(now):
        errors["occurred_on"] = "date dans le futur"
    effective = [k.effective_date for k in case.contracts or ()]
    if effective and cmd.occurred_on < min(effective):
        errors["occurred_on"] = (f"antérieure à la souscription (contrat en vigueur le "
                                 f"{min(effective):%d/%m/%Y}) : ce n'est pas un fait depuis la souscription")
    summary = answer = None
    try:
        summary = clean_text(cmd.summary, "summary", cmd.max_chars, "résumé")
    except InvalidChange as exc:
        errors.update(exc.errors)
    if cmd.answer is not None:
        try:
            answer = clean_text(cmd.answer, "answer", cmd.max_chars, "réponse")
        except InvalidChange as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidChange(errors)
    row: dict[str, Any] = {
        "kind": kind.value, "occurred_on": cmd.occurred_on, "summary": summary,
        "status": (TopicStatus.ANSWERED if answer else TopicStatus.OPEN).value, "answer": answer,
        "answered_at": now if answer else None, "author": cmd.author, "created_at": now,
    }
    fx = Effects(action="add_topic")
    fx.inserts.append(Insert(Row.TOPIC, row))
    fx.changes["topic"] = [None, {"kind": kind.value, "occurred_on": cmd.occurred_on.isoformat(),
                                  "summary": summary, "status": row["status"], "answer": answer}]
    return fx


def answer_topic(case: CaseSnapshot, cmd: AnswerTopic, now: datetime) -> Effects:
    topic = next((t for t in case.topics or () if t.id == cmd.topic_id), None)
    if topic is None:
        raise InvalidChange({"topic_id": f"sinistre ou question {cmd.topic_id} inconnu dans ce dossier"})
    answer = clean_text(cmd.answer, "answer", cmd.max_chars, "réponse")
    if topic.status is TopicStatus.ANSWERED and topic.answer == answer:
        raise InvalidChange({"answer": "rien à modifier : cette réponse est déjà enregistrée"})
    fx = Effects(action="answer_topic")
    fx.updates.append(Update(Row.TOPIC, topic.id, {"answer": answer, "status": TopicStatus.ANSWERED.value,
                                                   "answered_at": now}))
    fx.changes[f"topic.{topic.id}.answer"] = [topic.answer, answer]
    if topic.status is not TopicStatus.ANSWERED:
        fx.changes[f"topic.{topic.id}.status"] = [topic.status.value, TopicStatus.ANSWERED.value]
    return fx


HANDLERS = {AddNote: add_note, AddTopic: add_topic, AnswerTopic: answer_topic}
