"""The day's letters on the manager's page, on both databases: one batch PDF of the letters still
to post, recorded posted through the write path (audited on each case), and the escalation's
last delay counted from the posting day.

Letters produced on Wednesday 15 April 2026; posted on Friday 17 April.
"""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from config import Settings, get_settings
from flows.escalation import run_escalation
from notifications.delivery import deliver_pending
from states.calendar import PARIS
from states.commands import FireEvent
from store.snapshot import CASE
from store.tables import AuditRecord, Notification
from store.write_path import execute
from tests.integration.pages_support import case_for, html, site, text_of  # noqa: F401

N = Notification.__table__
AUDIT = AuditRecord.__table__


@pytest.fixture
def letters(site, now, tmp_path, monkeypatch):  # noqa: F811
    """Four Corniche cases and one Rouvière case whose letters `m3 send` produced on 15 April;
    the client of the third called back since (joint/RDV)."""
    import config

    monkeypatch.setenv("M3_DATA_DIR", str(tmp_path))
    config.get_settings.cache_clear()
    with site.engine.begin() as conn:
        ids = [case_for(conn, site.advisors["corniche"], last_name=f"Client{i}")[0] for i in range(4)]
        other = case_for(conn, site.advisors["rouviere"], agency="rouviere", last_name="Rouvierois")[0]
    for case_id in [*ids, other]:
        execute(site.engine, case_id, 1, FireEvent("envoyer_courrier", "test"), "system:escalation", now)
    summary = deliver_pending(site.engine, now, settings=Settings(data_dir=tmp_path))
    assert summary.letters == 5
    execute(site.engine, ids[2], 2, FireEvent("joindre"), "user:marie", now)
    return ids, other


def _letter_ids(engine) -> dict[int, int]:
    with engine.connect() as conn:
        return {r.case_id: r.id for r in conn.execute(select(N.c.id, N.c.case_id).where(N.c.kind == "client_letter"))}


def _case(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(CASE).where(CASE.c.id == case_id)).one()


def test_pages__day_letters_print_as_one_pdf_and_are_recorded_posted(site, letters, now):  # noqa: F811
    ids, other = letters
    a, b, moved, d = ids
    letter = _letter_ids(site.engine)
    site.clock.advance(days=5)  # Monday 20 April
    browser = site.logged_in("paul")
    page = browser.client.get("/manager/courriers?jour=2026-04-15")
    assert page.status_code == 200
    tree = html(page)
    to_post = {int(i.attributes["value"]) for i in tree.css('input[name="courrier"]')}
    assert to_post == {letter[a], letter[b], letter[d]}  # not the one whose client called back, nor Rouvière's
    assert f"n° {moved}" in text_of(tree.css_first("#moved-on").parent) and "Rouvierois" not in page.text

    pdf = browser.client.get("/manager/courriers/2026-04-15.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-m3-letters"] == "3"
    merged = PdfReader(io.BytesIO(pdf.content))
    files = sorted(get_settings().letters_dir.glob("2026-04-15/*.pdf"))
    assert len(files) == 5
    singles = {int(p.name.split("-")[1]): len(PdfReader(p).pages) for p in files}
    assert len(merged.pages) == sum(singles[letter[c]] for c in (a, b, d))
    assert "Client0" in merged.pages[0].extract_text()  # in case order: case a first

    token = tree.css_first('input[name="csrf_token"]').attributes["value"]
    resp = browser.client.post("/manager/courriers/2026-04-15/poster", data={
        "csrf_token": token, "courrier": [str(letter[a]), str(letter[b])], "date_depot": "2026-04-17"})
    assert resp.status_code == 200
    results = [text_of(li) for li in html(resp).css("#post-results li")]
    assert len(results) == 2 and all("enregistré comme posté" in r for r in results)
    with site.engine.connect() as conn:
        posted = dict(conn.execute(select(N.c.case_id, N.c.posted_on).where(N.c.kind == "client_letter")).all())
        record = conn.execute(select(AUDIT).where(AUDIT.c.case_id == a).order_by(AUDIT.c.seq.desc())).first()
    assert posted[a] == posted[b] == date(2026, 4, 17) and posted[d] is None and posted[moved] is None
    assert (record.action, record.actor) == ("mark_letter_posted", "user:paul")
    step_start = datetime(2026, 4, 17, 12, 0, tzinfo=PARIS)
    assert record.changes[f"letter.{letter[a]}.posted_on"] == [None, "2026-04-17"]
    assert record.changes["case.escalated_at"][1] == step_start.isoformat()
    assert _case(site.engine, a).escalated_at == step_start
    # Twice: refused, nothing written.
    again = browser.client.post("/manager/courriers/2026-04-15/poster", data={
        "csrf_token": token, "courrier": str(letter[a]), "date_depot": "2026-04-17"})
    assert "déjà posté le 17/04/2026" in text_of(html(again).css_first("#post-results"))
    assert _case(site.engine, a).version == 3

    # The escalation: ten business days from production (29 April) close the letter never posted;
    # the posted ones wait ten business days from the posting day (4 May: 1 May is a holiday).
    run_escalation(site.engine, date(2026, 4, 29), datetime(2026, 4, 29, 5, 0, tzinfo=timezone.utc))
    states = {c: _case(site.engine, c).state for c in (a, b, d)}
    assert states == {a: "courrier_envoye", b: "courrier_envoye", d: "cloture"}
    run_escalation(site.engine, date(2026, 4, 30), datetime(2026, 4, 30, 5, 0, tzinfo=timezone.utc))
    assert _case(site.engine, a).state == "courrier_envoye"
    run_escalation(site.engine, date(2026, 5, 4), datetime(2026, 5, 4, 5, 0, tzinfo=timezone.utc))
    assert {_case(site.engine, c).closing_reason for c in (a, b)} == {"injoignable"}


def test_pages__posting_refuses_a_future_date_and_needs_the_manager_role(site, letters, now):  # noqa: F811
    ids, _ = letters
    letter = _letter_ids(site.engine)
    browser = site.logged_in("paul")
    token = browser.csrf("/manager/courriers")
    resp = browser.client.post("/manager/courriers/2026-04-15/poster", data={
        "csrf_token": token, "courrier": str(letter[ids[0]]), "date_depot": "2026-04-16"})  # tomorrow
    assert "date de dépôt dans le futur" in text_of(html(resp).css_first("#post-results"))
    assert _case(site.engine, ids[0]).version == 2
    advisor = site.logged_in("marie")
    assert advisor.client.get("/manager/courriers").status_code == 403
    assert advisor.client.get("/manager/courriers/2026-04-15.pdf").status_code == 403
