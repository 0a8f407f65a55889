"""Letters posted: the agency records the day a printed letter went out.

The escalation's last delay (M3_BUSINESS_DAYS_BEFORE_UNREACHABLE business days before
*injoignable*) is the time the client has to answer the letter, so it counts from the day the
letter was posted, not from the day its PDF was produced: a letter printed on Friday and posted
on Tuesday gives the client the same ten business days. The case row keeps the step's start in
`escalated_at` (what flows/escalation.py measures from); posting the letter of the current step
moves it to the posting day, audited with its before and after. A letter never marked posted
keeps the production day (the agency that does not use the posting page loses nothing).
"""
from __future__ import annotations

from datetime import date, datetime, time

from states.calendar import PARIS
from states.commands import MarkLetterPosted
from states.effects import Effects, Row, Update
from states.errors import InvalidChange
from states.lifecycle import State
from states.records import CaseSnapshot, LetterRecord


def posting_moment(posted_on: date, letter: LetterRecord, now: datetime) -> datetime:
    """When the step starts: now when posted today, else midday (Paris) of the posting day, and
    never before the letter was produced."""
    if posted_on == now.astimezone(PARIS).date():
        moment = now
    else:
        moment = datetime.combine(posted_on, time(12, 0), tzinfo=PARIS)
    return max(moment, letter.created_at)


def mark_posted(case: CaseSnapshot, cmd: MarkLetterPosted, now: datetime) -> Effects:
    letters = case.letters or ()
    letter = next((x for x in letters if x.id == cmd.letter_id), None)
    if letter is None:
        raise InvalidChange({"letter_id": f"courrier {cmd.letter_id} inconnu dans ce dossier"})
    if letter.posted_on is not None:
        raise InvalidChange({"letter_id": f"courrier déjà posté le {letter.posted_on:%d/%m/%Y}"})
    if letter.status != "sent":
        raise InvalidChange({"letter_id": "courrier pas encore imprimable (PDF non produit)"
                             if letter.status in ("pending", "sending")
                             else f"courrier non produit (statut {letter.status})"})
    produced = letter.created_at.astimezone(PARIS).date()
    today = now.astimezone(PARIS).date()
    if cmd.posted_on < produced:
        raise InvalidChange({"posted_on": f"date de dépôt antérieure à la production du courrier "
                                          f"({produced:%d/%m/%Y})"})
    if cmd.posted_on > today:
        raise InvalidChange({"posted_on": "date de dépôt dans le futur"})
    fx = Effects(action="mark_letter_posted", reason=f"courrier {letter.id} posté le {cmd.posted_on:%d/%m/%Y}")
    fx.updates.append(Update(Row.LETTER, letter.id, {"posted_on": cmd.posted_on}))
    fx.changes[f"letter.{letter.id}.posted_on"] = [None, cmd.posted_on.isoformat()]
    latest = max(letters, key=lambda x: (x.created_at, x.id))
    if case.state == State.COURRIER_ENVOYE.value and latest.id == letter.id:
        moment = posting_moment(cmd.posted_on, letter, now)
        fx.case["escalated_at"] = moment
        fx.changes["case.escalated_at"] = [letter.created_at.isoformat(), moment.isoformat()]
    return fx
