"""The manager's pages on both databases: charts (server-rendered SVG, well-formed), agency
scoping, bulk reassignment with per-case results, deactivating an advisor, the CRM upload.

The clock stands on Wednesday 15 April 2026, 10:30 in Paris; the cases' windows run 8-22 April.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from sqlalchemy import select

from api import auth
from api.roles import Role
from states.commands import CorrectClient, FireEvent
from store.importer import import_file
from store.snapshot import CASE
from store.tables import AuditRecord
from store.write_path import execute
from tests import factories as f
from tests.import_csv import row, write_csv
from tests.integration.pages_support import PASSWORD, case_for, html, site, text_of  # noqa: F401

SVG = "{http://www.w3.org/2000/svg}"


def _manager_of_rouviere(site) -> None:
    with site.engine.begin() as conn:
        auth.create_user(conn, "lea", Role.MANAGER, "rouviere", site.clock.now)
        auth.set_password(conn, "lea", PASSWORD, site.clock.now, 12)


def _case_row(engine, case_id: int):
    with engine.connect() as conn:
        return conn.execute(select(CASE).where(CASE.c.id == case_id)).one()


def test_pages__manager_dashboard_draws_the_cohort_as_well_formed_svg(site, now):  # noqa: F811
    adv = site.advisors["corniche"]
    with site.engine.begin() as conn:
        other = f.advisor(conn, agency_id="corniche", name="Bruno Vidal")
        cases = [case_for(conn, adv)[0] for _ in range(3)] + [case_for(conn, other)[0]]
    execute(site.engine, cases[0], 1, FireEvent("joindre"), "user:marie", now)  # reached, inside the window
    b = site.logged_in("paul")
    resp = b.client.get("/manager")
    assert resp.status_code == 200, resp.text
    tree = html(resp)
    figures = {fig.attributes["id"]: fig for fig in tree.css("figure.chart-card")}
    assert set(figures) == {"chart-states", "chart-advisors", "chart-reach", "chart-on-time", "chart-multi"}
    svgs = {}
    for name in figures:  # the SVG as the server sent it (an HTML parser would re-serialise it)
        figure = resp.text.split(f'id="{name}"', 1)[1].split("</figure>", 1)[0]
        svg = figure[figure.index("<svg"):figure.index("</svg>") + len("</svg>")]
        svgs[name] = root = ET.fromstring(svg)  # well-formed XML, or this raises
        assert root.tag == f"{SVG}svg" and root.attrib["role"] == "img" and root.find(f"{SVG}title") is not None
    advisors = svgs["chart-advisors"]
    bar_titles = [t.text for t in advisors.iter(f"{SVG}title")]
    assert "Conseillère Corniche — À contacter : 2" in bar_titles
    assert "Conseillère Corniche — Joint / RDV : 1" in bar_titles and "Bruno Vidal — À contacter : 1" in bar_titles
    reach = text_of(figures["chart-reach"])
    assert "Agence" in reach and "25,0 %" in reach  # 1 reached of 4
    kpis = text_of(tree.css_first("section.kpis"))
    assert "4 dossiers" in kpis and "25,0 % clients joints (1)" in kpis
    assert "/static/" in resp.text and "cdn" not in resp.text.lower()  # nothing loaded from elsewhere


def test_pages__manager_lists_overdue_cases_by_the_one_definition(site, now):  # noqa: F811
    adv = site.advisors["corniche"]
    with site.engine.begin() as conn:
        late, _, _ = case_for(conn, adv, last_name="Enretard")
        reached, _, _ = case_for(conn, adv, last_name="Jointe")
    execute(site.engine, reached, 1, FireEvent("joindre"), "user:marie", now)
    site.clock.advance(days=8)  # 23 April: both windows ended yesterday
    b = site.logged_in("paul")
    overdue = html(b.client.get("/manager")).css_first("#overdue")
    assert "Enretard" in text_of(overdue) and "Jointe" not in text_of(overdue)  # reached: no longer late
    assert "1 j" in text_of(overdue)


def test_pages__manager_of_rouviere_sees_no_corniche_case(site, now):  # noqa: F811
    _manager_of_rouviere(site)
    with site.engine.begin() as conn:
        corniche, _, _ = case_for(conn, site.advisors["corniche"], last_name="Cornichon")
        rouviere, _, _ = case_for(conn, site.advisors["rouviere"], agency="rouviere", last_name="Rouvierois")
    site.clock.advance(days=8)
    b = site.logged_in("lea")
    for path in ("/manager", "/manager?agence=corniche", "/manager/reassigner", "/manager/reassigner?agence=corniche",
                 "/manager/conseillers", "/manager/courriers", "/manager/corrections"):
        resp = b.client.get(path)
        assert resp.status_code == 200, (path, resp.text)
        assert "Cornichon" not in resp.text and "Conseillère Corniche" not in resp.text, path
        assert f'name="dossier" value="{corniche}"' not in resp.text and f"n° {corniche}<" not in resp.text, path
    assert "Rouvierois" in b.client.get("/manager/reassigner").text
    # Acting on the other agency's case: refused like a case that does not exist.
    form = html(b.client.get("/manager/reassigner"))
    token = form.css_first('form.bulk input[name="csrf_token"]').attributes["value"]
    resp = b.client.post("/manager/reassigner", data={"csrf_token": token, "dossier": str(corniche),
                                                      f"version_{corniche}": "1",
                                                      "conseiller": str(site.advisors["rouviere"])})
    assert resp.status_code == 200
    [item] = html(resp).css("#reassign-results li")
    assert "refusé" in text_of(item) and "introuvable" in text_of(item)
    assert _case_row(site.engine, corniche).assigned_advisor_id == site.advisors["corniche"]
    # An advisor has no manager's page.
    assert site.logged_in("marie").client.get("/manager").status_code == 403


def test_pages__bulk_reassignment_reports_the_stale_case_and_moves_the_others(site, now):  # noqa: F811
    adv = site.advisors["corniche"]
    with site.engine.begin() as conn:
        target = f.advisor(conn, agency_id="corniche", name="Bruno Vidal")
        ids = [case_for(conn, adv)[0] for _ in range(3)]
    b = site.logged_in("paul")
    page = html(b.client.get(f"/manager/reassigner?de={adv}"))
    form = page.css_first("form.bulk")
    versions = {i: form.css_first(f'input[name="version_{i}"]').attributes["value"] for i in ids}
    assert versions == {i: "1" for i in ids}
    stale = ids[1]
    execute(site.engine, stale, 1, FireEvent("joindre"), "user:marie", now)  # someone works it meanwhile
    data = {"csrf_token": form.css_first('input[name="csrf_token"]').attributes["value"], "dossier": [str(i) for i in ids],
            **{f"version_{i}": v for i, v in versions.items()}, "conseiller": str(target), "motif": "congé"}
    resp = b.client.post(f"/manager/reassigner?de={adv}", data=data)
    assert resp.status_code == 200, resp.text
    items = {int(li.attributes["data-case"]): li for li in html(resp).css("#reassign-results li")}
    assert set(items) == set(ids)
    assert "le dossier a changé" in text_of(items[stale]) and "stale" in items[stale].attributes["class"]
    for i in (ids[0], ids[2]):
        assert "réassigné" in text_of(items[i]) and items[i].attributes["class"] == "ok"
        assert _case_row(site.engine, i).assigned_advisor_id == target
    assert _case_row(site.engine, stale).assigned_advisor_id == adv
    with site.engine.connect() as conn:
        audit = conn.execute(select(AuditRecord.__table__).where(AuditRecord.__table__.c.case_id == ids[0])
                             .order_by(AuditRecord.__table__.c.seq.desc())).first()
    assert (audit.action, audit.actor, audit.reason) == ("reassign", "user:paul", "congé")


def test_pages__deactivating_an_advisor_hands_over_the_open_cases(site, now):  # noqa: F811
    with site.engine.begin() as conn:
        leaving = f.advisor(conn, agency_id="corniche", name="Alain Départ")
        taker = f.advisor(conn, agency_id="corniche", name="Bruno Vidal")
        ids = [case_for(conn, leaving)[0] for _ in range(2)]
    b = site.logged_in("paul")
    page = html(b.client.get("/manager/conseillers"))
    token = page.css_first('input[name="csrf_token"]').attributes["value"]
    resp = b.client.post(f"/manager/conseillers/{leaving}/desactiver", data={"csrf_token": token},
                         follow_redirects=False)
    assert resp.status_code == 422 and "2 dossiers en cours" in resp.text  # who takes them over?
    resp = b.client.post(f"/manager/conseillers/{leaving}/desactiver",
                         data={"csrf_token": token, "repreneur": str(taker)}, follow_redirects=True)
    assert resp.status_code == 200 and "2 dossier(s) réassigné(s)" in resp.text
    assert all(_case_row(site.engine, i).assigned_advisor_id == taker for i in ids)
    row = [r for r in html(resp).css("table.data tbody tr") if "Alain Départ" in text_of(r)][0]
    assert "inactif" in text_of(row)
    # Another agency's advisor cannot be named.
    resp = b.client.post(f"/manager/conseillers/{taker}/desactiver",
                         data={"csrf_token": token, "repreneur": str(site.advisors["rouviere"])})
    assert resp.status_code == 422


def test_pages__crm_upload_shows_the_summary_and_the_conflicts(site, now, tmp_path):  # noqa: F811
    import_file(site.engine, write_csv(tmp_path / "first.csv", [row()]), now=now - timedelta(days=5))
    with site.engine.begin() as conn:
        from store.tables import Client
        adv = conn.execute(select(Client.__table__.c.advisor_id).where(Client.__table__.c.id == "C1")).scalar_one()
        case_id = f.case(conn, "C1", ["K1"], adv)
    execute(site.engine, case_id, 1, CorrectClient({"phone": "06 99 88 77 66"}), "user:marie", now)
    second = write_csv(tmp_path / "second.csv", [row(city="Aubagne"),
                                                 row(contract_id="K2", client_id="C2", last_name="Nouveau"),
                                                 row(contract_id="K3", client_id="", last_name="Rejeté")])
    b = site.logged_in("paul")
    token = b.csrf("/manager/import")
    with second.open("rb") as fh:
        resp = b.client.post("/manager/import", data={"csrf_token": token},
                             files={"fichier": ("lagon.csv", fh, "text/csv")})
    assert resp.status_code == 200, resp.text
    summary = html(resp).css_first("#import-summary")
    figures = {text_of(d.css_first("dt")): text_of(d.css_first("dd")) for d in summary.css("dl.summary div")}
    assert figures["Lignes lues"] == "3" and figures["Contrats importés"] == "1" and figures["Rejetés"] == "1"
    assert figures["Mis à jour"] == "1"
    [conflict] = summary.css("table.data tr.conflict-standing")
    assert "C1" in text_of(conflict) and "téléphone" in text_of(conflict) and "+33699887766" in text_of(conflict)
    assert f"n° {case_id}" in text_of(conflict)
    rejected = [text_of(r) for r in summary.css("table.data tbody tr") if "client_id" in text_of(r)]
    assert rejected and rejected[0].startswith("4 client_id")  # the rejected row, by its line and column


def test_pages__crm_upload_refuses_a_file_over_the_limit(site, now, tmp_path, monkeypatch):  # noqa: F811
    import config

    monkeypatch.setenv("M3_UPLOAD_MAX_MB", "1")
    config.get_settings.cache_clear()
    big = write_csv(tmp_path / "big.csv", [row(contract_id=f"K{i}", client_id=f"C{i}", address="x" * 200)
                                           for i in range(6000)])
    assert big.stat().st_size > 1 << 20
    b = site.logged_in("paul")
    token = b.csrf("/manager/import")
    with big.open("rb") as fh:
        resp = b.client.post("/manager/import", data={"csrf_token": token}, files={"fichier": ("big.csv", fh, "text/csv")})
    assert resp.status_code == 413 and "trop gros" in resp.text
    from store.tables import Client
    with site.engine.connect() as conn:
        assert conn.execute(select(Client.__table__.c.id).limit(1)).first() is None  # nothing imported
