"""The pages in a real browser (headless Chromium): a case walked from à contacter to clôturé,
two tabs on one case, a call refused outside the hours then recorded as inbound, another agency's
case, a forged session. Each page's screenshot goes to tests/e2e/screenshots/ (git-ignored)."""
from __future__ import annotations

import base64
import json

import pytest
from playwright.sync_api import expect
from itsdangerous import TimestampSigner

from tests.e2e.conftest import Counted, login

pytestmark = pytest.mark.e2e


def _case_state(p: Counted) -> str:
    return p.page.locator(".case-head .badge.state").inner_text()


def test_e2e__one_case_from_a_contacter_to_cloture(new_page, server):
    p = new_page()
    login(p)
    p.shot("01-mes-dossiers")
    assert p.page.locator("section.group h2").first.inner_text().startswith("À appeler maintenant")
    p.click(p.page.locator(f'li[data-case="{server.cases.walk}"] a.case-name'))
    p.page.wait_for_url(f"**/dossiers/{server.cases.walk}")
    loads_before_work = p.loads
    p.shot("02-dossier-a-contacter")
    page = p.page

    # The call: the client answers.
    p.record(page.locator('#appel button[value="reached"]'))
    assert _case_state(p) == "Joint / RDV"
    # The client record is complete; confirm agency and advisor, then validate the fiche.
    p.record(page.locator("#fiche button", has_text="Confirmer agence et conseiller"))
    p.record(page.locator("#etapes button", has_text="Valider la fiche"))
    assert _case_state(p) == "Fiche validée"
    p.shot("03-dossier-fiche-validee")
    # Every signature and document received.
    while page.locator("#contrats tr.todo button", has_text="Reçue").count():
        p.record(page.locator("#contrats tr.todo button", has_text="Reçue").first)
    p.record(page.locator("#etapes button", has_text="Contrats finalisés"))
    assert _case_state(p) == "Contrats finalisés"
    # The bilan: what the client holds elsewhere, a gap suggestion accepted with its devis.
    page.fill('#bilan input[name="product"]', "Habitation")
    page.fill('#bilan input[name="insurer"]', "MAIF")
    p.record(page.locator("#bilan form.row-form button", has_text="Ajouter").first)
    suggestion = page.locator("#bilan li.suggestion:has(button:has-text('Retenir'))").first
    code = suggestion.get_attribute("data-code")
    suggestion.locator('select[name="client_decision"]').select_option("accepted")
    p.record(suggestion.locator("button", has_text="Retenir"))
    accepted = page.locator(f'#bilan li.suggestion[data-code="{code}"]')
    assert "retenu" in accepted.inner_text().lower()
    p.shot("04-dossier-bilan")
    # Any other suggestion left open is dismissed with its reason (the advice and why: DDA).
    for _ in range(10):
        left = page.locator("#bilan li.suggestion:has(button:has-text('Retenir'))")
        if not left.count():
            break
        first = left.first
        p.click(first.locator("summary", has_text="Écarter"))
        first.locator('input[name="reason"]').fill("Déjà couvert par l'employeur")
        p.record(first.locator("button", has_text="Écarter"))
    p.record(page.locator("#etapes button", has_text="Bilan fait"))
    assert _case_state(p) == "Bilan fait"
    p.record(page.locator("#etapes button", has_text="Actions planifiées"))
    # The devis is done; close the case as complete.
    while page.locator("#actions button", has_text="Terminée").count():
        p.record(page.locator("#actions button", has_text="Terminée").first)
    p.record(page.locator("#etapes button", has_text="Clôturer (client complet)"))
    assert _case_state(p).startswith("Clôturé")
    p.shot("05-dossier-cloture")
    work_loads = p.loads - loads_before_work
    print(f"\nwalk à contacter -> clôturé: {p.clicks} clicks, {p.loads} full page loads "
          f"(login 2, open the case 1; the record work: {work_loads})")
    assert work_loads == 0, "the record work on a case must need no full page load"
    trail = page.locator("#journal tbody tr")
    assert trail.count() >= 10 and "Clôturer" in trail.first.inner_text()


def test_e2e__two_tabs_on_one_case_the_second_is_told_it_changed(new_page, server):
    p = new_page()
    login(p)
    second = Counted(p.page.context.new_page(), server.base)
    for tab in (p, second):
        tab.goto(f"/dossiers/{server.cases.tabs}")
    p.record(p.page.locator('#appel button[value="no_answer"]'))
    second.click(second.page.locator('#appel button[value="voicemail"]'))
    notice = second.page.locator("#notice .problem.stale")
    notice.wait_for()
    assert "Le dossier a changé" in notice.inner_text()
    second.shot("06-deux-onglets-dossier-change", full_page=False)  # the notice sticks to the viewport's top
    second.click(notice.locator("a", has_text="Recharger le dossier"))
    second.page.wait_for_selector(f'#case-body[data-version="{p.version()}"]')
    assert second.page.locator("#notice .problem").count() == 0


def test_e2e__call_refused_outside_the_hours_then_recorded_as_inbound(new_page, server):
    p = new_page()
    login(p)
    p.goto(f"/dossiers/{server.cases.calls}")
    page = p.page
    page.fill('#appel input[name="at"]', "2026-04-11T11:00")  # a Saturday
    p.click(page.locator('#appel button[value="reached"]'))
    refused = page.locator("#msg-appel .problem")
    refused.wait_for()
    assert "pas d'appel le week-end" in refused.inner_text()
    assert _case_state(p) == "À contacter"
    refused.scroll_into_view_if_needed()
    p.shot("07-appel-refuse-hors-horaires", full_page=False)
    page.fill('#appel input[name="at"]', "2026-04-11T11:00")
    p.record(page.locator('#appel button[value="inbound"]'))
    assert _case_state(p) == "Joint / RDV"
    assert "Entrant" in page.locator("#appel table").last.inner_text()


def test_e2e__an_advisor_cannot_open_another_agencys_case(new_page, server):
    p = new_page()
    login(p, "rose")
    assert page_ids(p) == [server.cases.other_agency]
    response = p.goto(f"/dossiers/{server.cases.walk}")
    assert response.status == 404
    assert "introuvable" in p.page.locator("main").inner_text()
    p.shot("08-autre-agence-introuvable")


def page_ids(p: Counted) -> list[int]:
    return [int(x) for x in p.page.locator("li.case-row").evaluate_all("els => els.map(e => e.dataset.case)")]


def test_e2e__a_forged_session_goes_to_the_login_page(new_page, server):
    p = new_page()
    p.goto("/connexion")
    p.shot("09-connexion")
    payload = base64.b64encode(json.dumps({"uid": 1, "fp": "x", "csrf": "x", "seen": 9_999_999_999}).encode())
    forged = TimestampSigner("change-me-in-production").sign(payload).decode()
    p.page.context.add_cookies([{"name": "m3_session", "value": forged, "url": server.base}])
    p.goto("/dossiers")
    assert "/connexion" in p.page.url
    assert p.page.locator("h1").inner_text() == "Connexion"


def test_e2e__mes_dossiers_search_and_mon_compte(new_page, server):
    p = new_page()
    login(p)
    p.page.fill('input[name="q"]', "chloe MOREAU")
    expect(p.page.locator("li.case-row")).to_have_count(1)
    expect(p.page.locator("li.case-row a.case-name")).to_have_text("Chloé Moreau")
    p.page.fill('input[name="q"]', "06 44 55 66 77")
    expect(p.page.locator("li.case-row a.case-name")).to_have_text(["Louis Garnier"])
    assert "q=06%2044%2055%2066%2077" in p.page.url  # the filtered list is a link (hx-push-url)
    p.shot("10-recherche-telephone")
    p.click(p.page.locator("a", has_text="Mon compte"))
    p.page.wait_for_url("**/compte")
    p.shot("11-mon-compte")
