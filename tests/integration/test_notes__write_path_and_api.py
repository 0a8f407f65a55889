"""Notes, claims and questions through the one write path and the API, on SQLite and PostgreSQL:
rows written, the audit trail holding their text, notes newest first, the case detail showing
them with the call script."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from states.commands import AddNote, AddTopic, AnswerTopic
from states.errors import InvalidChange
from states.records import TopicKind
from store import audit
from store.snapshot import NOTE, TOPIC
from store.write_path import execute
from tests import factories as f
from tests.integration.api_support import api, assert_problem  # noqa: F401  (fixture)


def _trail(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(audit.AUDIT).where(audit.AUDIT.c.case_id == case_id)
                            .order_by(audit.AUDIT.c.seq)).all()


def test_notes__note_and_topics_through_the_write_path_are_stored_and_audited(engine, now):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    r1 = execute(engine, case_id, 1, AddNote("Préfère être rappelée le soir.", "user:marie"), "user:marie", now)
    r2 = execute(engine, case_id, r1.version,
                 AddTopic(TopicKind.SINISTRE, date(2026, 3, 2), "Bris de glace", "user:marie"), "user:marie", now)
    with engine.connect() as conn:
        [topic] = conn.execute(select(TOPIC).where(TOPIC.c.case_id == case_id)).all()
        [note] = conn.execute(select(NOTE).where(NOTE.c.case_id == case_id)).all()
    assert (note.text, note.author, note.created_at) == ("Préfère être rappelée le soir.", "user:marie", now)
    assert (topic.kind, topic.occurred_on, topic.status, topic.answer) == ("sinistre", date(2026, 3, 2), "open", None)
    later = now + timedelta(days=1)
    r3 = execute(engine, case_id, r2.version, AnswerTopic(topic.id, "Pris en charge, franchise 150 €"),
                 "user:marie", later)
    assert r3.version == 4 and r3.action == "answer_topic"
    with engine.connect() as conn:
        answered = conn.execute(select(TOPIC).where(TOPIC.c.id == topic.id)).one()
    assert (answered.status, answered.answer, answered.answered_at) == ("answered", "Pris en charge, franchise 150 €",
                                                                        later)
    records = _trail(engine, case_id)
    assert [r.action for r in records] == ["ouverture", "add_note", "add_topic", "answer_topic"]
    assert records[1].changes == {"note": [None, {"text": "Préfère être rappelée le soir.", "author": "user:marie"}]}
    assert records[2].changes["topic"][1]["summary"] == "Bris de glace"
    assert records[3].changes == {f"topic.{topic.id}.answer": [None, "Pris en charge, franchise 150 €"],
                                  f"topic.{topic.id}.status": ["open", "answered"]}
    with engine.connect() as conn:
        _, _, breaches, _ = audit.verify_all(conn)
    assert breaches == []  # the chain holds


def test_notes__a_refused_note_writes_nothing(engine, now):
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    with pytest.raises(InvalidChange):
        execute(engine, case_id, 1, AddNote(" ... ", "user:marie"), "user:marie", now)
    with engine.connect() as conn:
        assert conn.execute(select(NOTE)).all() == []
    assert [r.action for r in _trail(engine, case_id)] == ["ouverture"]


def test_notes__an_answer_cannot_reach_a_topic_of_another_case(engine, now):
    with engine.begin() as conn:
        case_a, *_ = f.ready_case(conn)
        case_b, *_ = f.ready_case(conn)
    execute(engine, case_a, 1, AddTopic(TopicKind.QUESTION, date(2026, 2, 1), "Franchise ?", "user:x"), "user:x", now)
    with engine.connect() as conn:
        topic_id = conn.execute(select(TOPIC.c.id)).scalar_one()
    with pytest.raises(InvalidChange):
        execute(engine, case_b, 1, AnswerTopic(topic_id, "300 €"), "user:x", now)


def test_notes__api_routes_and_the_case_detail(api, now):  # noqa: F811
    with api.engine.begin() as conn:
        case_id, adv, *_ = f.ready_case(conn)
    c, base = api.client, f"/api/cases/{case_id}"
    assert_problem(c.post(base + "/notes", json={"text": "x"}, headers=api.h("advisor")), 428, "if_match_required")
    r = c.post(base + "/notes", json={"text": "Premier appel : messagerie."}, headers=api.h("advisor", 1))
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "add_note" and r.json()["changes"]["note"][1]["author"] == "user:advisor"
    r = c.post(base + "/notes", json={"text": "Rappel demandé jeudi."}, headers=api.h("advisor", 2))
    assert r.status_code == 200, r.text
    empty = c.post(base + "/notes", json={"text": " ... "}, headers=api.h("advisor", 3))
    assert "note vide" in str(assert_problem(empty, 422, "invalid_change"))
    r = c.post(base + "/topics", json={"kind": "question", "summary": "Franchise bris de glace ?"},
               headers=api.h("advisor", 3))
    assert r.status_code == 200, r.text
    listed = c.get(base + "/notes", headers=api.h("compliance")).json()
    assert listed["reminder"] == "Aucune donnée de santé (RGPD art. 9)"
    assert [n["text"] for n in listed["items"]] == ["Rappel demandé jeudi.", "Premier appel : messagerie."]
    detail = c.get(base, headers=api.h("advisor")).json()
    [topic] = detail["topics"]
    assert (topic["kind_label"], topic["status_label"], topic["occurred_on"]) == ("Question", "En cours", "2026-04-15")
    assert detail["notes_reminder"] == "Aucune donnée de santé (RGPD art. 9)"
    no_answer = c.post(f"{base}/topics/{topic['id']}/answer", json={"answer": "  "}, headers=api.h("advisor", 4))
    assert_problem(no_answer, 422, "invalid_change")
    r = c.post(f"{base}/topics/{topic['id']}/answer", json={"answer": "150 €"}, headers=api.h("advisor", 4))
    assert r.status_code == 200, r.text
    detail = c.get(base, headers=api.h("advisor")).json()
    assert detail["topics"][0]["status"] == "answered" and detail["topics"][0]["answer"] == "150 €"
    script = detail["call_script"]
    assert script["source"] == "agency" and script["error"] is None
    assert script["text"].startswith("**Présentation (obligatoire, art. L221-16")
    assert c.get(base + "/script", headers=api.h("advisor")).json()["text"] == script["text"]
    # Another agency's case: the same 404 as a missing one.
    assert_problem(c.get(base + "/notes", headers=api.h("advisor_rouviere")), 404, "case_not_found")
    assert_problem(c.get(base + "/script", headers=api.h("advisor_rouviere")), 404, "case_not_found")
    assert_problem(c.post(base + "/notes", json={"text": "x"}, headers=api.h("compliance", 5)), 403, "forbidden")


def test_notes__notes_are_listed_newest_first(api, now):  # noqa: F811
    from api.queries.notes import notes_of

    with api.engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    version = 1
    for i, text in enumerate(("premier", "deuxième", "troisième")):
        version = execute(api.engine, case_id, version, AddNote(text, "user:x"), "user:x", now + timedelta(minutes=i)).version
    with api.engine.connect() as conn:
        assert [n["text"] for n in notes_of(conn, case_id)] == ["troisième", "deuxième", "premier"]


def test_notes__a_broken_agency_script_answers_200_with_the_default_and_its_error(api, now, tmp_path, monkeypatch):  # noqa: F811
    from config import get_settings

    monkeypatch.setenv("M3_SCRIPTS_DIR", str(tmp_path))
    get_settings.cache_clear()
    (tmp_path / "corniche.md.j2").write_text("{{ ''.__class__.__mro__ }}", "utf-8")
    try:
        with api.engine.begin() as conn:
            case_id, *_ = f.ready_case(conn)
        r = api.client.get(f"/api/cases/{case_id}/script", headers=api.h("advisor"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["source"] == "default" and "opération interdite" in body["error"]
        assert "Présentation (obligatoire" in body["text"] and "Accroche" in body["text"]
        detail = api.client.get(f"/api/cases/{case_id}", headers=api.h("advisor"))
        assert detail.status_code == 200 and detail.json()["call_script"]["source"] == "default"
    finally:
        get_settings.cache_clear()
