"""The compliance pages on both databases: search ignoring case and accents and a spaced phone,
a case's audit trail (chain verified), the right-of-access export, access requests with their
one-month due date shown until answered; and the role that may see them."""
from __future__ import annotations

import json
from datetime import date, timedelta

from states.commands import CorrectClient, FireEvent
from store.write_path import execute
from tests.integration.pages_support import case_for, html, site, text_of  # noqa: F401


def _search(browser, q: str) -> list[str]:
    resp = browser.client.get("/conformite", params={"q": q})
    assert resp.status_code == 200
    return [a.attributes["href"].rsplit("/", 1)[1] for a in html(resp).css('#results a[href^="/conformite/clients/"]')]


def test_pages__compliance_search_ignores_case_and_accents_and_reads_a_spaced_phone(site, now):  # noqa: F811
    with site.engine.begin() as conn:
        _, helene, _ = case_for(conn, site.advisors["corniche"], first_name="Hélène", last_name="Léger",
                                phone="+33611223344")
        _, other, _ = case_for(conn, site.advisors["rouviere"], agency="rouviere", first_name="Paul",
                               last_name="Durand", phone="+33655667788")
    b = site.logged_in("claire")
    assert _search(b, "helene") == [helene]
    assert _search(b, "LEGER hélène") == [helene]
    assert _search(b, "06 11 22 33 44") == [helene]
    assert _search(b, "0655667788") == [other]  # every agency: compliance sees them all
    assert _search(b, other.lower()) == [other]  # a client number, any case
    assert _search(b, "personne") == []
    assert "Aucun client" in b.client.get("/conformite", params={"q": "personne"}).text


def test_pages__compliance_trail_and_exports_of_a_case(site, now):  # noqa: F811
    with site.engine.begin() as conn:
        case_id, client_id, _ = case_for(conn, site.advisors["corniche"], last_name="Trail")
    execute(site.engine, case_id, 1, FireEvent("joindre"), "user:marie", now)
    execute(site.engine, case_id, 2, CorrectClient({"city": "Aubagne"}), "user:marie", now)
    b = site.logged_in("claire")
    page = b.client.get(f"/conformite/dossiers/{case_id}")
    assert page.status_code == 200
    tree = html(page)
    rows = [text_of(r) for r in tree.css("table.trail tbody tr")]
    assert len(rows) == 3 and rows[2].startswith("3") and "marie" in rows[2] and "Aubagne" in rows[2]
    assert tree.css_first(".chain-ok") is not None
    links = {a.attributes["href"] for a in tree.css("a.button")}
    assert {f"/api/cases/{case_id}/audit", f"/api/cases/{case_id}/audit.csv"} <= links
    assert b.client.get(f"/api/cases/{case_id}/audit.csv").status_code == 200  # the session reads the API too
    client_page = html(b.client.get(f"/conformite/clients/{client_id}"))
    assert f"/conformite/dossiers/{case_id}" in {a.attributes["href"] for a in client_page.css("a")}
    export = b.client.get(f"/conformite/clients/{client_id}/export.json")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    data = json.loads(export.content)
    assert data["client"]["id"] == client_id and data["client"]["city"] == "Aubagne"
    assert [c["id"] for c in data["cases"]] == [case_id] and len(data["cases"][0]["audit"]) == 3
    assert data["client_correction"][0]["field"] == "city"  # everything held: the corrections too
    assert data["exported_by"] == "claire"


def test_pages__access_request_due_in_a_month_shown_until_answered(site, now):  # noqa: F811
    with site.engine.begin() as conn:
        _, client_id, _ = case_for(conn, site.advisors["corniche"], last_name="Demandeur")
    b = site.logged_in("claire")
    token = b.csrf(f"/conformite/clients/{client_id}")
    received = date(2026, 3, 31)  # the month runs to 30 April (April has no 31st)
    resp = b.client.post(f"/conformite/clients/{client_id}/demandes",
                         data={"csrf_token": token, "recue_le": received.isoformat(), "canal": "courrier",
                               "note": "lettre signée"}, follow_redirects=True)
    assert resp.status_code == 200 and "au plus tard le 30/04/2026" in resp.text
    home = html(b.client.get("/conformite"))
    [line] = [r for r in home.css("table.data tbody tr") if "Demandeur" in text_of(r)]
    assert "30/04/2026" in text_of(line) and "15 j restants" in text_of(line)
    site.clock.advance(days=20)  # 5 May: overdue (and a new session: the old one has been idle)
    b = site.logged_in("claire")
    token = b.csrf("/conformite")
    [line] = [r for r in html(b.client.get("/conformite")).css("table.data tbody tr") if "Demandeur" in text_of(r)]
    assert "en retard de 5 j" in text_of(line) and "late" in line.attributes.get("class", "")
    action = line.css_first("form").attributes["action"]
    b.client.post(action, data={"csrf_token": token, "note": "export envoyé par courrier", "retour": "/conformite"})
    home = b.client.get("/conformite")
    assert "Demandeur" not in text_of(html(home).css_first("#requests-title").parent)
    assert "répondue le" in b.client.get(f"/conformite/clients/{client_id}").text
    # A date in the future is refused, with the reason.
    bad = b.client.post(f"/conformite/clients/{client_id}/demandes",
                        data={"csrf_token": token, "recue_le": (date(2026, 5, 5) + timedelta(days=1)).isoformat(),
                              "canal": "email"})
    assert bad.status_code == 422 and "futur" in bad.text


def test_pages__compliance_is_for_compliance_and_admin_only(site):  # noqa: F811
    assert site.logged_in("marie").client.get("/conformite").status_code == 403
    assert site.logged_in("paul").client.get("/conformite").status_code == 403
    claire = site.logged_in("claire")
    assert claire.client.get("/conformite").status_code == 200
    assert claire.client.get("/manager").status_code == 403
    assert claire.client.get("/connexion", follow_redirects=False).status_code in (200, 303)
