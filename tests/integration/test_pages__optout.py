"""The public opt-out page, on both databases: a GET changes nothing, the POST records the
opposition through the write path (audited, actor client:optout, also on a closed case), RFC
8058's one-click POST works without cookies, a bad signature is refused; service messages go on.
"""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from notifications import optout_links
from states.commands import FireEvent
from store.snapshot import CASE, CLIENT
from store.tables import AuditRecord
from store.write_path import execute
from tests.integration.pages_support import case_for, html, site, text_of  # noqa: F401

AUDIT = AuditRecord.__table__


@pytest.fixture
def optout_case(site, monkeypatch):  # noqa: F811
    import config

    monkeypatch.setenv("M3_OPTOUT_SECRET", "o" * 48)
    monkeypatch.setenv("M3_PUBLIC_BASE_URL", "https://suivi.agence.example/")
    config.get_settings.cache_clear()
    with site.engine.begin() as conn:
        case_id, client_id, _ = case_for(conn, site.advisors["corniche"])
    return case_id, client_id


def _state(engine, case_id, client_id):
    with engine.connect() as conn:
        version = conn.execute(select(CASE.c.version).where(CASE.c.id == case_id)).scalar_one()
        opposed = conn.execute(select(CLIENT.c.opposition_email).where(CLIENT.c.id == client_id)).scalar_one()
        trail = conn.execute(select(AUDIT.c.action, AUDIT.c.actor, AUDIT.c.changes).where(AUDIT.c.case_id == case_id)
                             .order_by(AUDIT.c.seq)).all()
    return version, opposed, trail


def test_pages__optout_get_changes_nothing_post_records_it_audited(site, optout_case):  # noqa: F811
    case_id, client_id = optout_case
    url = optout_links.url(client_id, case_id)
    assert url.startswith("https://suivi.agence.example/desinscription/")
    path = url.removeprefix("https://suivi.agence.example")
    anonymous = site.browser().client
    before = _state(site.engine, case_id, client_id)
    for _ in range(2):  # a mail scanner, then the client: nothing recorded by opening the link
        page = anonymous.get(path)
        assert page.status_code == 200
        form = html(page).css_first("section.optout form")
        assert form.attributes["method"] == "post" and form.attributes["action"] == path
        assert [text_of(b) for b in form.css("button")] == ["Confirmer ma désinscription"]
        assert form.css_first('input[name="csrf_token"]') is None  # the signed link is the authorisation
    assert _state(site.engine, case_id, client_id) == before

    done = anonymous.post(path)
    assert done.status_code == 200 and "Votre désinscription est enregistrée" in done.text
    version, opposed, trail = _state(site.engine, case_id, client_id)
    assert opposed is True and version == before[0] + 1
    assert trail[-1] == ("record_opposition", "client:optout", {"client.opposition_email": [False, True]})
    again = anonymous.post(path)
    assert again.status_code == 200 and "déjà désinscrit" in again.text
    assert _state(site.engine, case_id, client_id)[0] == version  # nothing written twice
    assert "déjà désinscrit" in anonymous.get(path).text


def test_pages__optout_one_click_post_without_cookies_rfc8058(site, optout_case):  # noqa: F811
    case_id, client_id = optout_case
    path = optout_links.url(client_id, case_id).removeprefix("https://suivi.agence.example")
    with TestClient(site.app, raise_server_exceptions=False) as mail_client:  # no session, no CSRF
        resp = mail_client.post(path, content="List-Unsubscribe=One-Click",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200
    assert _state(site.engine, case_id, client_id)[1] is True


def test_pages__optout_bad_signature_is_refused_and_changes_nothing(site, optout_case):  # noqa: F811
    case_id, client_id = optout_case
    token = optout_links.token(client_id, case_id)
    forged = optout_links.token(client_id, case_id)[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_secret = optout_links.URLSafeSerializer("x" * 48, salt=optout_links.SALT).dumps(
        {"c": client_id, "k": case_id, "ch": "email"})
    before = _state(site.engine, case_id, client_id)
    client = site.browser().client
    for bad in (forged, other_secret, "n'importe-quoi", "a" * 600):
        assert client.get(f"/desinscription/{bad}").status_code == 400
        resp = client.post(f"/desinscription/{bad}")
        assert resp.status_code == 400 and "invalide" in resp.text
    assert _state(site.engine, case_id, client_id) == before


def test_pages__optout_on_a_closed_case_still_records_it(site, optout_case, now):  # noqa: F811
    case_id, client_id = optout_case
    execute(site.engine, case_id, 1, FireEvent("enregistrer_refus"), "user:marie", now)
    path = optout_links.url(client_id, case_id).removeprefix("https://suivi.agence.example")
    assert site.browser().client.post(path).status_code == 200
    assert _state(site.engine, case_id, client_id)[1] is True


def test_optout__service_messages_still_go_marketing_does_not(site, optout_case, now, tmp_path):  # noqa: F811
    from config import Settings
    from notifications.delivery import deliver_pending
    from notifications.outbox import enqueue
    from notifications.testing import LoopbackSmtp

    case_id, client_id = optout_case
    site.browser().client.post(optout_links.url(client_id, case_id).removeprefix("https://suivi.agence.example"))
    with site.engine.begin() as conn:
        enqueue(conn, kind="client_email", channel="email", dedupe_key="m", now=now, case_id=case_id)
        enqueue(conn, kind="documents_request", channel="email", dedupe_key="s", now=now, case_id=case_id,
                payload={"missing": [{"contract_id": "K", "product": "Auto", "label": "Carte grise"}]})
    smtp = LoopbackSmtp()
    smtp.start()
    try:
        summary = deliver_pending(site.engine, now, settings=Settings(smtp_port=smtp.port, data_dir=tmp_path))
    finally:
        smtp.stop()
    assert (summary.sent, summary.cancelled) == (1, 1)
    [received] = smtp.handler.messages  # the documents to return: a service message
    assert b"X-M3-Kind: documents_request" in received.content
    with site.engine.connect() as conn:
        from store.tables import Notification
        n = Notification.__table__
        statuses = dict(conn.execute(select(n.c.kind, n.c.status).where(n.c.case_id == case_id)).all())
    assert statuses == {"client_email": "cancelled", "documents_request": "sent"}
