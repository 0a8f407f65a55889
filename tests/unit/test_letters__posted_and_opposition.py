"""Pure decisions of issue 8: a letter recorded posted (and the escalation's clock moved to the
posting day), and an opposition to marketing recorded from an opt-out link."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from states.calendar import PARIS
from states.commands import MarkLetterPosted, RecordOpposition
from states.decide import decide
from states.effects import Row, Update
from states.errors import InvalidChange
from states.records import Channel, LetterRecord
from tests.unit.domain_builders import PARTICULIER, case

PRODUCED = datetime(2026, 4, 15, 8, 30, tzinfo=timezone.utc)  # Wednesday 10:30 in Paris
NOW = datetime(2026, 4, 20, 9, 0, tzinfo=timezone.utc)  # Monday


def _case(state="courrier_envoye", *letters: LetterRecord):
    return case(state, letters=letters or (LetterRecord(7, PRODUCED, "sent"),))


def test_letters__posting_the_current_letter_moves_the_escalation_to_the_posting_day():
    fx = decide(_case(), MarkLetterPosted(7, date(2026, 4, 17)), NOW)
    assert fx.action == "mark_letter_posted"
    assert fx.updates == [Update(Row.LETTER, 7, {"posted_on": date(2026, 4, 17)})]
    midday = datetime(2026, 4, 17, 12, 0, tzinfo=PARIS)
    assert fx.case == {"escalated_at": midday}
    assert fx.changes == {"letter.7.posted_on": [None, "2026-04-17"],
                          "case.escalated_at": [PRODUCED.isoformat(), midday.isoformat()]}


def test_letters__posted_today_counts_from_now_and_never_before_production():
    assert decide(_case(), MarkLetterPosted(7, date(2026, 4, 20)), NOW).case == {"escalated_at": NOW}
    late_letter = LetterRecord(7, datetime(2026, 4, 15, 14, 0, tzinfo=timezone.utc), "sent")
    fx = decide(_case("courrier_envoye", late_letter), MarkLetterPosted(7, date(2026, 4, 15)), NOW)
    assert fx.case == {"escalated_at": late_letter.created_at}  # produced after midday, posted that day


def test_letters__a_case_that_moved_on_records_the_posting_without_touching_the_escalation():
    fx = decide(_case("joint_rdv"), MarkLetterPosted(7, date(2026, 4, 17)), NOW)
    assert fx.case == {} and list(fx.changes) == ["letter.7.posted_on"]
    older = LetterRecord(3, datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc), "sent")
    fx = decide(_case("courrier_envoye", older, LetterRecord(7, PRODUCED, "sent")), MarkLetterPosted(3, date(2026, 4, 17)), NOW)
    assert fx.case == {}  # not the letter of the current step


@pytest.mark.parametrize("letter, posted_on, field, message", [
    (LetterRecord(7, PRODUCED, "sent", date(2026, 4, 16)), date(2026, 4, 17), "letter_id", "déjà posté le 16/04/2026"),
    (LetterRecord(7, PRODUCED, "pending"), date(2026, 4, 17), "letter_id", "pas encore imprimable"),
    (LetterRecord(7, PRODUCED, "cancelled"), date(2026, 4, 17), "letter_id", "statut cancelled"),
    (LetterRecord(7, PRODUCED, "sent"), date(2026, 4, 14), "posted_on", "antérieure à la production"),
    (LetterRecord(7, PRODUCED, "sent"), date(2026, 4, 21), "posted_on", "dans le futur"),
])
def test_letters__refusals_say_why(letter, posted_on, field, message):
    with pytest.raises(InvalidChange) as exc:
        decide(_case("courrier_envoye", letter), MarkLetterPosted(7, posted_on), NOW)
    assert message in exc.value.errors[field]


def test_letters__unknown_letter_refused():
    with pytest.raises(InvalidChange, match="courrier 9 inconnu"):
        decide(_case(), MarkLetterPosted(9, date(2026, 4, 17)), NOW)


def test_optout__records_the_opposition_once_even_on_a_closed_case():
    fx = decide(case("cloture", client=PARTICULIER), RecordOpposition(Channel.EMAIL), NOW)
    assert fx.client == {"opposition_email": True}
    assert fx.changes == {"client.opposition_email": [False, True]} and "lien de désinscription" in fx.reason
    from dataclasses import replace
    with pytest.raises(InvalidChange):
        decide(case(client=replace(PARTICULIER, opposition_email=True)), RecordOpposition(Channel.EMAIL), NOW)
