"""The manager's and compliance pages in a real browser (headless Chromium): a manager logs in and
sees the charts; a compliance officer searches a client without accents; an opt-out link.

Runs on the session's server (tests/e2e/conftest.py). Its own people and cases are in Rouvière
(a manager, two more advisors, a dozen cases in several states), so the advisor walk of
test_pages__browser.py, in Corniche, sees nothing of them. Screenshots: tests/e2e/screenshots/.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, Counted

pytestmark = pytest.mark.e2e
NOW = datetime(2026, 4, 15, 8, 30, tzinfo=timezone.utc)  # the server's frozen clock


@pytest.fixture(scope="module")
def rouviere(server):
    """A Rouvière manager ("lea"), a compliance officer ("claire") and a cohort worked in part."""
    from api import auth
    from api.roles import Role
    from states.commands import FireEvent
    from store.db import make_engine
    from store.write_path import execute
    from tests import factories as f

    engine = make_engine(f"sqlite:///{server.data / 'm3.db'}")
    names = [("Amandine", "Petit"), ("Bastien", "Roux"), ("Céline", "Faure"), ("Damien", "Blanc"),
             ("Élodie", "Garcia"), ("Fabien", "Chevalier"), ("Gaëlle", "Robin"), ("Hugo", "Mathieu"),
             ("Inès", "Lemoine"), ("Jules", "Fournier"), ("Karine", "Girard"), ("Léo", "Bonnet")]
    with engine.begin() as conn:
        advisors = [f.advisor(conn, name=n, agency_id="rouviere") for n in ("Yasmine Aubert", "Thomas Perrin")]
        cases = []
        for i, (first, last) in enumerate(names):
            adv = advisors[i % 2]
            cl = f.client(conn, advisor_id=adv, agency_id="rouviere", first_name=first, last_name=last,
                          phone=f"+336{70000000 + i:08d}")
            k = f.contract(conn, cl, product="Auto" if i % 3 else "Habitation")
            cases.append(f.case(conn, cl, [k], adv, agency_id="rouviere", now=datetime(2026, 4, 1, 8, tzinfo=timezone.utc)))
        for name, role in (("lea", Role.MANAGER), ("claire", Role.COMPLIANCE)):
            auth.create_user(conn, name, role, "rouviere" if role is Role.MANAGER else None, NOW)
            auth.set_password(conn, name, PASSWORD, NOW, 12)
    for case_id in cases[:5]:
        execute(engine, case_id, 1, FireEvent("joindre"), "user:lea", NOW)
    for case_id in cases[5:7]:
        execute(engine, case_id, 1, FireEvent("envoyer_email", "3 appels sans réponse"), "system:escalation", NOW)
    execute(engine, cases[0], 2, FireEvent("enregistrer_refus"), "user:lea", NOW)
    engine.dispose()
    return cases


def _login(p: Counted, username: str, lands_on: str) -> None:
    p.goto("/connexion")
    p.page.fill('input[name="username"]', username)
    p.page.fill('input[name="password"]', PASSWORD)
    p.click(p.page.locator('button[type="submit"]', has_text="Se connecter"))
    p.page.wait_for_url(f"**{lands_on}")


def test_e2e__a_manager_logs_in_and_sees_the_charts(new_page, server, rouviere):
    p = new_page()
    _login(p, "lea", "/manager")  # the manager's home
    page = p.page
    expect(page.locator("h1")).to_contain_text("Pilotage")
    charts = page.locator("figure.chart-card svg")
    expect(charts).to_have_count(5)
    for i in range(5):  # drawn, with a size, and well-formed as the browser holds it
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 30
        ET.fromstring(charts.nth(i).evaluate("e => new XMLSerializer().serializeToString(e)"))
    advisors_chart = page.locator("#chart-advisors svg")
    expect(advisors_chart).to_contain_text("Yasmine Aubert")
    expect(advisors_chart).to_contain_text("Thomas Perrin")
    assert "Margaret Hebert" not in page.content()  # Corniche's advisor: not this manager's agency
    kpis = page.locator("section.kpis").inner_text()
    assert "13\ndossiers" in kpis and "38,5" in kpis  # 5 reached of 13 (12 here, 1 from conftest)
    p.shot("20-pilotage-graphiques")

    # Bulk reassignment from the page: the e-mailed cases of Thomas Perrin go to Yasmine Aubert.
    p.click(page.locator(".subnav a", has_text="Réassigner"))
    page.wait_for_url("**/manager/reassigner")
    page.select_option('select[name="de"]', label=page.locator('select[name="de"] option', has_text="Thomas Perrin")
                       .inner_text())
    p.click(page.locator("form.filters button", has_text="Afficher"))
    page.wait_for_url("**de=*")
    boxes = page.locator('form.bulk tbody input[type="checkbox"]')
    n = boxes.count()
    assert n == 6
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.select_option('select[name="conseiller"]', label=page.locator('select[name="conseiller"] option',
                                                                       has_text="Yasmine Aubert").inner_text())
    p.click(page.locator("button", has_text="Réassigner les dossiers cochés"))
    expect(page.locator("#reassign-results")).to_contain_text("2 réassignés")
    p.shot("21-pilotage-reassignation")
    p.click(page.locator(".subnav a", has_text="Courriers du jour"))
    expect(page.locator("h1")).to_contain_text("Courriers")
    p.shot("22-pilotage-courriers")
    p.click(page.locator(".subnav a", has_text="Corrections vers le CRM"))
    expect(page.locator("h1")).to_contain_text("Corrections")
    p.shot("23-pilotage-corrections")


def test_e2e__compliance_finds_a_client_without_accents_and_reads_its_trail(new_page, server, rouviere):
    p = new_page()
    _login(p, "claire", "/conformite")
    page = p.page
    page.fill('input[name="q"]', "elodie garcia")
    expect(page.locator("#results")).to_contain_text("Élodie Garcia")
    p.click(page.locator("#results a", has_text="Élodie Garcia"))
    page.wait_for_url("**/conformite/clients/*")
    p.shot("24-conformite-client")
    p.click(page.locator("a", has_text="lire").first)
    page.wait_for_url("**/conformite/dossiers/*")
    expect(page.locator(".chain-ok")).to_be_visible()
    expect(page.locator("table.trail tbody tr")).not_to_have_count(0)
    p.shot("25-conformite-journal")


def test_e2e__an_opt_out_link_asks_then_records(new_page, server, rouviere):
    from notifications import optout_links
    from config import Settings
    from sqlalchemy import select

    from store.db import make_engine
    from store.snapshot import CASE

    engine = make_engine(f"sqlite:///{server.data / 'm3.db'}")
    with engine.connect() as conn:
        client_id = conn.execute(select(CASE.c.client_id).where(CASE.c.id == rouviere[3])).scalar_one()
    engine.dispose()
    settings = Settings(data_dir=server.data)  # the server's opt-out secret, generated in its data folder
    path = optout_links.url(client_id, rouviere[3], settings=settings).split("://", 1)[1].split("/", 1)[1]
    p = new_page()
    p.goto("/" + path)
    expect(p.page.locator("section.optout button")).to_have_text("Confirmer ma désinscription")
    p.shot("26-desinscription")
    p.click(p.page.locator("section.optout button"))
    expect(p.page.locator("section.optout h1")).to_have_text("Votre désinscription est enregistrée")
    p.shot("27-desinscription-enregistree")
