"""Overdue digests, the weekly manager digest, action reminders and document requests."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from flows.clock import resolve
from flows.reminders import run_reminders
from states.commands import AddAction, FireEvent
from states.records import ActionKind
from store.snapshot import CASE
from store.tables import Notification
from store.write_path import execute
from tests import factories as f

NOTIF = Notification.__table__


def _notes(engine, kind):
    with engine.connect() as conn:
        return conn.execute(select(NOTIF).where(NOTIF.c.kind == kind).order_by(NOTIF.c.id)).all()


def _remind(engine, day: date):
    return run_reminders(engine, *resolve(day))


def test_reminders__overdue_digests_daily_per_advisor_weekly_per_agency(engine):
    with engine.begin() as conn:
        case_id, adv, *_ = f.ready_case(conn)  # window 8-22 April 2026
        f.ready_case(conn, opposition_email=True)
        gone = f.advisor(conn, active=False)
        cl = f.client(conn, advisor_id=gone)
        f.case(conn, cl, [f.contract(conn, cl)], gone)
    # The window's last day: not late yet, but "Vos dossiers en cours" lists every open case (issue 7).
    first = _remind(engine, date(2026, 4, 22))
    assert (first.overdue_cases, first.open_cases, first.advisor_digests, first.manager_digests) == (0, 3, 2, 0)
    r = _remind(engine, date(2026, 4, 23))  # Thursday
    assert (r.overdue_cases, r.advisor_digests, r.manager_digests) == (3, 2, 1)
    again = _remind(engine, date(2026, 4, 23))
    assert (again.advisor_digests, again.manager_digests) == (0, 0)
    assert _remind(engine, date(2026, 4, 24)).advisor_digests == 2 and _remind(engine, date(2026, 4, 24)).manager_digests == 0
    assert _remind(engine, date(2026, 4, 25)).business_day is False  # Saturday
    assert _remind(engine, date(2026, 4, 27)).manager_digests == 1  # Monday: a new week
    before, digest = _notes(engine, "advisor_digest")[0], _notes(engine, "advisor_digest")[2]
    assert before.dedupe_key == f"advisor_digest:{adv}:2026-04-22" and before.payload["cases"][0]["late"] is False
    assert digest.dedupe_key == f"advisor_digest:{adv}:2026-04-23" and digest.recipient.endswith("@agence.example")
    assert digest.payload["cases"][0] == {"case_id": case_id, "client_name": "Marie Dupont", "due_date": "2026-04-15",
                                          "window_end": "2026-04-22", "state": "a_contacter", "priority": 0,
                                          "late": True, "caught_up": False}
    manager = _notes(engine, "manager_digest")[0]
    assert manager.dedupe_key == "manager_digest:corniche:2026-W17"
    assert manager.recipient == "direction.corniche@agence.example"
    assert sum(a["overdue"] for a in manager.payload["by_advisor"]) == 3 and manager.payload["week"] == "2026-W17"
    with engine.begin() as conn:  # reached cases are no longer overdue
        conn.execute(update(CASE).values(state="joint_rdv"))
    assert _remind(engine, date(2026, 4, 28)).overdue_cases == 0


def test_reminders__planned_actions_past_due_to_their_owner(engine):
    _, now = resolve(date(2026, 4, 15))
    with engine.begin() as conn:
        case_id, adv, *_ = f.ready_case(conn)
    execute(engine, case_id, 1, AddAction(ActionKind.DEVIS, adv, date(2026, 5, 4), "Devis habitation"), "advisor:1", now)
    assert _remind(engine, date(2026, 5, 4)).action_reminders == 0  # due today: not past due
    r = _remind(engine, date(2026, 5, 5))
    assert r.action_reminders == 1 and _remind(engine, date(2026, 5, 5)).action_reminders == 0
    [note] = _notes(engine, "action_reminder")
    assert note.dedupe_key == f"action_reminder:{adv}:2026-05-05"
    assert note.payload["actions"] == [{"case_id": case_id, "client_name": "Marie Dupont", "kind": "devis",
                                        "label": "Devis habitation", "due_date": "2026-05-04"}]


def test_reminders__missing_documents_after_the_call_at_most_every_7_days(engine):
    _, now = resolve(date(2026, 4, 15))
    with engine.begin() as conn:
        reached, *_ = f.ready_case(conn)
        opposed, *_ = f.ready_case(conn, opposition_email=True)
        not_reached, *_ = f.ready_case(conn)
    for c in (reached, opposed):
        execute(engine, c, 1, FireEvent("joindre"), "advisor:1", now)
    # A service message: the client who opposed marketing emails gets it too (issue 8).
    assert _remind(engine, date(2026, 4, 16)).documents_requests == 2
    note, opposed_note = _notes(engine, "documents_request")
    assert (note.case_id, opposed_note.case_id) == (reached, opposed) and note.recipient == "marie.dupont@example.fr"
    labels = {m["label"] for m in note.payload["missing"]}
    assert labels and all(m["contract_id"] and m["product"] == "Auto" for m in note.payload["missing"])
    sent = [_remind(engine, date(2026, 4, 16) + timedelta(days=d)).documents_requests for d in range(1, 15)]
    # business days only; the next request 7 days later (23 April), then 30 April
    assert sum(sent) == 4 and sent[6] == 2 and sent[13] == 2  # both cases, every 7 days
