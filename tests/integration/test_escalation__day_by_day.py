"""The escalation walked day by day with injected dates, across 11 November 2026 (a Wednesday)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from flows.clock import resolve
from flows.escalation import run_escalation, _fire, EscalationResult
from states.calendar import PARIS
from states.commands import RecordAttempt
from states.records import AttemptOutcome, Channel
from store.snapshot import CASE
from store.tables import Notification
from store.write_path import execute
from tests import factories as f

NOTIF = Notification.__table__


def _record(engine, case_id, at_local: datetime, outcome=AttemptOutcome.NO_ANSWER, channel=Channel.PHONE):
    at = at_local.replace(tzinfo=PARIS)
    with engine.connect() as conn:
        version = conn.execute(select(CASE.c.version).where(CASE.c.id == case_id)).scalar_one()
    execute(engine, case_id, version, RecordAttempt(channel, at, outcome), "advisor:1", at + timedelta(minutes=1))


def _state(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(CASE.c.state, CASE.c.closing_reason).where(CASE.c.id == case_id)).one()


def _walk(engine, start: date, end: date) -> dict[date, list]:
    """Run the escalation each calendar day from start to end; what it changed each day."""
    log = {}
    day = start
    while day <= end:
        as_of, now = resolve(day)
        result = run_escalation(engine, as_of, now)
        if result.changes:
            log[day] = result.changes
        day += timedelta(days=1)
    return log


def _failed_calls(engine, case_id):
    for d in (5, 6, 9):  # Thu 5, Fri 6, Mon 9 November, 10:30 in Paris
        _record(engine, case_id, datetime(2026, 11, d, 10, 30))


def test_escalation__calls_email_letter_injoignable_across_a_public_holiday(engine):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
        replied, *_ = f.ready_case(conn)
    _failed_calls(engine, case_id)
    _failed_calls(engine, replied)
    log = _walk(engine, date(2026, 11, 2), date(2026, 11, 12))
    assert _state(engine, replied).state == "email_envoye"
    _record(engine, replied, datetime(2026, 11, 13, 9, 0), AttemptOutcome.REPLIED, Channel.EMAIL)
    log.update(_walk(engine, date(2026, 11, 13), date(2026, 12, 8)))
    # Mon 9: the third call is at 10:30, after the 07:00 run; Tue 10: the email. Wed 11 is a
    # public holiday: D1 = 7 business days after the 10th is Fri 20 (not Thu 19); D2 = 10 more.
    assert log == {
        date(2026, 11, 10): [(case_id, "envoyer_email"), (replied, "envoyer_email")],
        date(2026, 11, 20): [(case_id, "envoyer_courrier")],
        date(2026, 12, 4): [(case_id, "declarer_injoignable")],
    }
    assert tuple(_state(engine, case_id)) == ("cloture", "injoignable")
    assert _state(engine, replied).state == "joint_rdv"  # the reply stopped the escalation
    with engine.connect() as conn:
        kinds = conn.execute(select(NOTIF.c.kind).where(NOTIF.c.case_id == case_id).order_by(NOTIF.c.id)).scalars().all()
    assert kinds == ["client_email", "client_letter"]


def test_escalation__holiday_and_weekend_do_nothing_and_rerun_is_idempotent(engine):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    _failed_calls(engine, case_id)
    for day in (date(2026, 11, 11), date(2026, 11, 14)):
        r = run_escalation(engine, *resolve(day))
        assert not r.business_day and r.changes == []
    first = run_escalation(engine, *resolve(date(2026, 11, 12)))
    again = run_escalation(engine, *resolve(date(2026, 11, 12)))
    assert first.emails == 1 and again.changes == [] and again.candidates == 0


def test_escalation__two_distinct_days_are_required(engine):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    for hh in (10, 11, 12):  # three failed calls, one day
        _record(engine, case_id, datetime(2026, 11, 9, hh, 15))
    r = run_escalation(engine, *resolve(date(2026, 11, 10)))
    assert r.changes == [] and _state(engine, case_id).state == "a_contacter"
    _record(engine, case_id, datetime(2026, 11, 10, 10, 15))
    assert run_escalation(engine, *resolve(date(2026, 11, 12))).changes == [(case_id, "envoyer_email")]


def test_escalation__opposition_moves_to_the_next_allowed_channel(engine):
    with engine.begin() as conn:
        no_email, *_ = f.ready_case(conn, opposition_email=True)
        nothing, *_ = f.ready_case(conn, opposition_email=True, opposition_letter=True)
        no_phone, *_ = f.ready_case(conn, opposition_phone=True)
        no_letter, *_ = f.ready_case(conn, opposition_letter=True)
    for c in (no_email, nothing, no_letter):
        _failed_calls(engine, c)
    log = _walk(engine, date(2026, 11, 10), date(2026, 12, 10))
    assert sorted(log[date(2026, 11, 10)]) == sorted([
        (no_email, "envoyer_courrier"), (nothing, "declarer_injoignable"), (no_phone, "envoyer_email"),
        (no_letter, "envoyer_email")])
    # The letter is impossible: the client keeps the whole delay (D1 + D2 = 17 business days).
    assert (no_letter, "declarer_injoignable") in log[date(2026, 12, 4)]
    assert all((no_letter, "envoyer_courrier") not in v for v in log.values())


def test_escalation__a_case_changed_meanwhile_is_skipped(engine):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    as_of, now = resolve(date(2026, 11, 10))
    result = EscalationResult(as_of)
    _fire(engine, case_id, 99, [("envoyer_email", "x")], now, result)
    assert result.conflicts == 1 and result.changes == []


def test_escalation__professional_cases_escalate_too(engine):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn, kind="professionnel")
    for d in (5, 6, 9):
        _record(engine, case_id, datetime(2026, 11, d, 9, 30))  # business hours for professionals
    assert run_escalation(engine, *resolve(date(2026, 11, 10))).changes == [(case_id, "envoyer_email")]
