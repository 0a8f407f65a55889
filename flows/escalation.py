"""The daily escalation: failed calls -> email -> letter -> closed as injoignable.

Selection is set-based (three SQL queries over the open cases, cheap with 100,000 of them);
only the candidates go through the ONE write path (store.write_path.execute), which checks the
version, the guards (email_allowed, letter_allowed), writes the audit record and enqueues the
client_email / client_letter notification in the same transaction.

Rules (settings in brackets):
- a case 'à contacter' with N failed phone attempts [failed_calls_before_email = 3] on at least
  K distinct business days [failed_call_distinct_days = 2] gets the email ('email envoyé').
  The attempts were checked against the calling rules (D223-9) when recorded: the write path
  refuses any other. A case whose client opposes phone calls skips the calls: it gets the email
  once its contact window has opened.
- no reply D1 business days [business_days_before_letter = 7] after the email: the letter
  ('courrier envoyé'); D2 more business days [business_days_before_unreachable = 10] after the
  letter: closed as injoignable.
- a reply (an attempt recorded as reached, an appointment, an answered email) moves the case to
  'joint / RDV' in the write path itself, so it leaves the selection: the escalation stops.
- opposition or missing details: the next allowed channel. Email impossible -> the letter at
  once; letter impossible too -> closed as injoignable at once (nothing else can be tried).
  Email sent but letter impossible -> closed as injoignable after D1 + D2 business days, the
  whole time the client would have had.
- professionals and companies get the same escalation (our choice: the consumer code does not
  bind us there, but the agency treats every client alike; their calls follow business hours).
- business days are the agency's (metropolitan France: weekends and national public holidays).
  On a day that is not one the flow does nothing and says so; a rerun the same day does nothing
  twice (the cases have moved on); a case someone changed meanwhile (VersionConflict) is skipped
  and picked up the next day.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, and_, func, select

from config import Settings, get_settings
from states.calendar import PARIS, business_days_between, client_timezone, is_business_day
from states.commands import FireEvent
from states.errors import DomainError, GuardFailed
from states.records import FAILED_CALL_OUTCOMES
from store.errors import VersionConflict
from store.snapshot import ATTEMPT, CASE, CLIENT
from store.write_path import execute

log = logging.getLogger("m3.escalation")
ACTOR = "system:escalation"
_FAILED = [o.value for o in FAILED_CALL_OUTCOMES]


@dataclass
class EscalationResult:
    as_of: date
    business_day: bool = True
    candidates: int = 0
    emails: int = 0
    letters: int = 0
    unreachable: int = 0
    waiting: int = 0  # candidates not due yet (distinct days, business days) after the exact check
    conflicts: int = 0
    errors: int = 0
    changes: list[tuple[int, str]] = field(default_factory=list)  # (case id, event)

    def summary(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "business_day": self.business_day, "candidates": self.candidates,
                "emails": self.emails, "letters": self.letters, "unreachable": self.unreachable,
                "waiting": self.waiting, "conflicts": self.conflicts, "errors": self.errors}


def _local_business_days(ats: list[datetime], postal_code: str | None) -> int:
    tz = client_timezone(postal_code)
    return len({d for d in (a.astimezone(tz).date() for a in ats) if is_business_day(d, postal_code)})


def _since(at: datetime | None, as_of: date) -> int:
    return business_days_between(at.astimezone(PARIS).date(), as_of) if at else 0


def select_candidates(conn, as_of: date, now: datetime, s: Settings) -> list[tuple[int, int, str, str]]:
    """[(case id, version, step, reason)] the escalation may move today, in case id order."""
    out: list[tuple[int, int, str, str]] = []
    # Step 0: enough failed calls (SQL counts them; Python checks distinct business days locally).
    enough = (select(ATTEMPT.c.case_id)
              .join(CASE, CASE.c.id == ATTEMPT.c.case_id)
              .where(CASE.c.state == "a_contacter", ATTEMPT.c.channel == "phone", ATTEMPT.c.outcome.in_(_FAILED),
                     ATTEMPT.c.direction == "outbound", ATTEMPT.c.at <= now)  # the agency's failed calls
              .group_by(ATTEMPT.c.case_id).having(func.count() >= s.failed_calls_before_email))
    rows = conn.execute(
        select(ATTEMPT.c.case_id, CASE.c.version, CLIENT.c.postal_code, ATTEMPT.c.at)
        .join(CASE, CASE.c.id == ATTEMPT.c.case_id).join(CLIENT, CLIENT.c.id == CASE.c.client_id)
        .where(ATTEMPT.c.case_id.in_(enough), ATTEMPT.c.channel == "phone", ATTEMPT.c.outcome.in_(_FAILED),
               ATTEMPT.c.direction == "outbound", ATTEMPT.c.at <= now)
        .order_by(ATTEMPT.c.case_id)).all()
    calls: dict[int, list] = defaultdict(list)
    meta: dict[int, tuple[int, str | None]] = {}
    for case_id, version, postal, at in rows:
        calls[case_id].append(at)
        meta[case_id] = (version, postal)
    for case_id, ats in calls.items():
        version, postal = meta[case_id]
        days = _local_business_days(ats, postal)
        if days >= s.failed_call_distinct_days:
            out.append((case_id, version, "calls", f"{len(ats)} appels sans réponse sur {days} jours ouvrés"))
    # Step 0 bis: phone opposed, the window has opened.
    for case_id, version in conn.execute(
            select(CASE.c.id, CASE.c.version).join(CLIENT, CLIENT.c.id == CASE.c.client_id)
            .where(CASE.c.state == "a_contacter", CLIENT.c.opposition_phone, CASE.c.window_start <= as_of)):
        if case_id not in calls:
            out.append((case_id, version, "calls", "opposition au démarchage téléphonique"))
    # Steps 1 and 2: business days since the email / the letter (SQL prefilters on calendar days,
    # which are never fewer than business days).
    for state, step, days in (("email_envoye", "email", s.business_days_before_letter),
                              ("courrier_envoye", "letter", s.business_days_before_unreachable)):
        horizon = now - timedelta(days=days)
        for case_id, version, at in conn.execute(
                select(CASE.c.id, CASE.c.version, CASE.c.escalated_at)
                .where(and_(CASE.c.state == state, CASE.c.escalated_at <= horizon))):
            out.append((case_id, version, step, f"{_since(at, as_of)} jours ouvrés sans réponse|{at.isoformat()}"))
    out.sort()
    return out


def _fire(engine: Engine, case_id: int, version: int, events: list[tuple[str, str]], now: datetime,
          result: EscalationResult) -> None:
    """Try the events in order; a guard that fails (opposition, missing details) moves to the next."""
    for event, reason in events:
        try:
            execute(engine, case_id, version, FireEvent(event, reason), ACTOR, now)
        except GuardFailed:
            continue
        except VersionConflict:
            result.conflicts += 1
            return
        except DomainError as exc:  # the case moved in a way the selection did not see
            log.warning("case %s: %s refused (%s)", case_id, event, type(exc).__name__)
            result.errors += 1
            return
        result.changes.append((case_id, event))
        if event == "envoyer_email":
            result.emails += 1
        elif event == "envoyer_courrier":
            result.letters += 1
        else:
            result.unreachable += 1
        return
    result.waiting += 1


def run_escalation(engine: Engine, as_of: date, now: datetime, settings: Settings | None = None) -> EscalationResult:
    s = settings or get_settings()
    result = EscalationResult(as_of)
    if not is_business_day(as_of):
        result.business_day = False
        log.info("escalation %s: not a business day, nothing done", as_of)
        return result
    with engine.connect() as conn:
        candidates = select_candidates(conn, as_of, now, s)
        conn.rollback()
    result.candidates = len(candidates)
    d1, d2 = s.business_days_before_letter, s.business_days_before_unreachable
    for case_id, version, step, reason in candidates:
        if step == "calls":
            _fire(engine, case_id, version, [
                ("envoyer_email", reason), ("envoyer_courrier", f"{reason} ; email impossible"),
                ("declarer_injoignable", f"{reason} ; ni email ni courrier possibles")], now, result)
            continue
        text, at_iso = reason.split("|")
        since = _since(datetime.fromisoformat(at_iso), as_of)
        if step == "email":
            events = [("envoyer_courrier", f"email sans réponse : {text}")] if since >= d1 else []
            if since >= d1 + d2:  # letter impossible: the client has had the whole delay
                events.append(("declarer_injoignable", f"email sans réponse : {text} ; courrier impossible"))
        else:
            events = [("declarer_injoignable", f"courrier sans réponse : {text}")] if since >= d2 else []
        _fire(engine, case_id, version, events, now, result)
    log.info("escalation %s: %s", as_of, result.summary())
    return result


def summary_markdown(result: EscalationResult) -> str:
    if not result.business_day:
        return f"# Escalade du {result.as_of:%d/%m/%Y}\n\nJour non ouvré : rien à faire.\n"
    return (f"# Escalade du {result.as_of:%d/%m/%Y}\n\n| étape | dossiers |\n|---|---:|\n"
            f"| emails envoyés | {result.emails} |\n| courriers produits | {result.letters} |\n"
            f"| clôturés injoignables | {result.unreachable} |\n| en attente (délai non échu) | {result.waiting} |\n"
            f"| modifiés entre-temps (repris demain) | {result.conflicts} |\n| refusés | {result.errors} |\n")
