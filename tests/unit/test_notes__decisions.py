"""Notes, claims and questions (states/notes.py): pure decisions through decide(), audited with
their text; obviously empty or too long texts refused; claims dated since the subscription."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from states.commands import AddNote, AddTopic, AnswerTopic
from states.decide import decide
from states.effects import Insert, Row, Update
from states.errors import InvalidChange
from states.notes import HEALTH_REMINDER
from states.records import TopicKind, TopicRecord, TopicStatus
from tests.unit.domain_builders import case

AUTHOR = "user:marie"


def test_notes__a_note_is_inserted_and_its_text_audited(now):
    fx = decide(case(), AddNote("  Rappeler après 18 h, préfère l'email.  ", AUTHOR), now)
    assert fx.action == "add_note"
    assert fx.inserts == [Insert(Row.NOTE, {"text": "Rappeler après 18 h, préfère l'email.", "author": AUTHOR,
                                            "created_at": now})]
    assert fx.changes == {"note": [None, {"text": "Rappeler après 18 h, préfère l'email.", "author": AUTHOR}]}


@pytest.mark.parametrize("text", ["", "   ", "...", " - ", "\n\t", "?!"])
def test_notes__an_obviously_empty_note_is_refused(text, now):
    with pytest.raises(InvalidChange) as refused:
        decide(case(), AddNote(text, AUTHOR), now)
    assert refused.value.errors == {"text": "note vide"}


def test_notes__the_length_is_bounded_by_the_setting_passed_in(now):
    decide(case(), AddNote("x" * 100, AUTHOR, max_chars=100), now)
    with pytest.raises(InvalidChange) as refused:
        decide(case(), AddNote("x" * 101, AUTHOR, max_chars=100), now)
    assert refused.value.errors == {"text": "note trop longue (101 caractères, maximum 100)"}


def test_notes__a_closed_case_takes_no_note(now):
    with pytest.raises(InvalidChange):
        decide(case("cloture", closing_reason="complet"), AddNote("texte", AUTHOR), now)


def test_notes__the_health_reminder_is_one_constant():
    assert HEALTH_REMINDER == "Aucune donnée de santé (RGPD art. 9)"


def test_notes__a_claim_is_recorded_open_with_its_date(now):
    fx = decide(case(), AddTopic(TopicKind.SINISTRE, date(2026, 3, 2), "Bris de glace sur le pare-brise", AUTHOR), now)
    [insert] = fx.inserts
    assert insert.row is Row.TOPIC and insert.values["status"] == "open" and insert.values["answer"] is None
    assert insert.values["occurred_on"] == date(2026, 3, 2) and insert.values["author"] == AUTHOR
    assert fx.changes == {"topic": [None, {"kind": "sinistre", "occurred_on": "2026-03-02",
                                           "summary": "Bris de glace sur le pare-brise", "status": "open",
                                           "answer": None}]}


def test_notes__a_question_answered_on_the_spot_is_recorded_answered(now):
    fx = decide(case(), AddTopic(TopicKind.QUESTION, date(2026, 4, 15), "Franchise en cas de vol ?", AUTHOR,
                                 answer="300 € (voir DP)"), now)
    [insert] = fx.inserts
    assert (insert.values["status"], insert.values["answer"], insert.values["answered_at"]) == (
        "answered", "300 € (voir DP)", now)


def test_notes__a_claim_in_the_future_or_before_the_subscription_is_refused(now):
    # The case's contract took effect on 15 January 2026; `now` is 15 April 2026.
    with pytest.raises(InvalidChange) as future:
        decide(case(), AddTopic(TopicKind.SINISTRE, date(2026, 4, 16), "Dégât des eaux", AUTHOR), now)
    assert future.value.errors == {"occurred_on": "date dans le futur"}
    with pytest.raises(InvalidChange) as before:
        decide(case(), AddTopic(TopicKind.SINISTRE, date(2026, 1, 14), "Dégât des eaux", AUTHOR), now)
    assert "antérieure à la souscription" in before.value.errors["occurred_on"]
    with pytest.raises(InvalidChange) as empty:
        decide(case(), AddTopic(TopicKind.QUESTION, date(2026, 2, 1), " . ", AUTHOR), now)
    assert empty.value.errors == {"summary": "résumé vide"}


def _with_topic(status=TopicStatus.OPEN, answer=None):
    return replace(case(), topics=(TopicRecord(4, TopicKind.QUESTION, date(2026, 2, 1), "Franchise ?", status, answer),))


def test_notes__answering_a_question_requires_an_answer_and_audits_it(now):
    fx = decide(_with_topic(), AnswerTopic(4, "300 €, rachetable"), now)
    assert fx.action == "answer_topic"
    assert fx.updates == [Update(Row.TOPIC, 4, {"answer": "300 €, rachetable", "status": "answered", "answered_at": now})]
    assert fx.changes == {"topic.4.answer": [None, "300 €, rachetable"], "topic.4.status": ["open", "answered"]}
    with pytest.raises(InvalidChange) as empty:
        decide(_with_topic(), AnswerTopic(4, "   "), now)
    assert empty.value.errors == {"answer": "réponse vide"}


def test_notes__an_answer_to_an_unknown_topic_or_the_same_answer_again_is_refused(now):
    with pytest.raises(InvalidChange) as unknown:
        decide(_with_topic(), AnswerTopic(99, "réponse"), now)
    assert "inconnu" in unknown.value.errors["topic_id"]
    with pytest.raises(InvalidChange):
        decide(_with_topic(TopicStatus.ANSWERED, "300 €"), AnswerTopic(4, "300 €"), now)
    fx = decide(_with_topic(TopicStatus.ANSWERED, "300 €"), AnswerTopic(4, "150 € finalement"), now)
    assert fx.changes == {"topic.4.answer": ["300 €", "150 € finalement"]}  # a corrected answer, audited


def test_notes__commands_declare_what_they_read():
    assert AddNote("x", AUTHOR).needs == frozenset()
    assert AddTopic(TopicKind.SINISTRE, date(2026, 2, 1), "x", AUTHOR).needs == {"contracts"}
    assert AnswerTopic(1, "x").needs == {"topics"}
