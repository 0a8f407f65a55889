""""Mes dossiers": groups, order, next allowed slot, badges, filters and search, on both databases.

The clock stands on Wednesday 15 April 2026, 10:30 in Paris (inside the consumer calling hours).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from states.commands import AddAction, BookAppointment, FireEvent
from states.records import ActionKind, AppointmentChannel
from store.write_path import execute
from tests import factories as f
from tests.integration.pages_support import case_for, html, site, text_of  # noqa: F401


def _groups(resp) -> dict[str, list[int]]:
    tree = html(resp)
    return {text_of(g.css_first("h2")).rsplit(" ", 1)[0]: [int(li.attributes["data-case"]) for li in g.css("li.case-row")]
            for g in tree.css("section.group")}


def _row(resp, case_id: int) -> str:
    return text_of(html(resp).css_first(f'li[data-case="{case_id}"]'))


def _set_priority(engine, case_id: int, priority: int) -> None:
    from sqlalchemy import update

    from store.snapshot import CASE
    with engine.begin() as conn:
        conn.execute(update(CASE).where(CASE.c.id == case_id).values(priority=priority))


def test_pages__mes_dossiers_groups_appointments_then_callable_then_others(site, now):  # noqa: F811
    adv = site.advisors["corniche"]
    with site.engine.begin() as conn:
        low, _, _ = case_for(conn, adv)
        high, _, _ = case_for(conn, adv)
        cl = f.client(conn, advisor_id=adv, last_name="Tôt")
        early = f.case(conn, cl, [f.contract(conn, cl, effective=date(2026, 2, 1))], adv,
                       effective=date(2026, 2, 1))  # window 24/04 -> 08/05: not open yet
        appt, _, _ = case_for(conn, adv)
    _set_priority(site.engine, high, 80)
    _set_priority(site.engine, low, 10)
    execute(site.engine, appt, 1, BookAppointment(now + timedelta(hours=5, minutes=30), AppointmentChannel.PHONE,
                                                  True, adv), "user:test", now)
    r = site.logged_in("marie").client.get("/dossiers")
    assert r.status_code == 200
    groups = _groups(r)
    assert list(groups) == ["Rendez-vous aujourd'hui", "À appeler maintenant", "Les autres dossiers"]
    assert groups["Rendez-vous aujourd'hui"] == [appt]
    assert groups["À appeler maintenant"] == [high, low]  # priority first
    assert groups["Les autres dossiers"] == [early]
    assert "RDV 16:00" in _row(r, appt)
    row = _row(r, early)
    assert "Fenêtre pas encore ouverte" in row and "Prochain créneau vendredi 24 avril à 10:00" in row
    assert "Appeler maintenant" in _row(r, high)


def test_pages__mes_dossiers_says_when_a_case_may_be_called_next(site, now):  # noqa: F811
    adv = site.advisors["corniche"]
    with site.engine.begin() as conn:
        consumer, _, _ = case_for(conn, adv)
        company, _, _ = case_for(conn, adv, kind="entreprise")
    site.clock.now = datetime(2026, 4, 15, 18, 30, tzinfo=timezone.utc)  # 20:30 in Paris
    r = site.logged_in("marie").client.get("/dossiers")
    assert _groups(r)["À appeler maintenant"] == []
    assert "Prochain créneau jeudi 16 avril à 10:00" in _row(r, consumer)
    assert "hors des heures d'appel" in _row(r, consumer)
    assert "Prochain créneau jeudi 16 avril à 09:00" in _row(r, company)  # business hours


def test_pages__mes_dossiers_badges_late_escalation_and_overdue_actions(site, now):  # noqa: F811
    adv = site.advisors["corniche"]
    with site.engine.begin() as conn:
        cl = f.client(conn, advisor_id=adv)
        late = f.case(conn, cl, [f.contract(conn, cl, effective=date(2025, 12, 20))], adv,
                      effective=date(2025, 12, 20), now=datetime(2026, 3, 10, tzinfo=timezone.utc))
        emailed, _, _ = case_for(conn, adv)
        busy, _, _ = case_for(conn, adv)
    execute(site.engine, emailed, 1, FireEvent("envoyer_email"), "user:test", now)
    execute(site.engine, busy, 1, AddAction(ActionKind.DEVIS, adv, date(2026, 4, 10), "devis habitation"),
            "user:test", now)
    b = site.logged_in("marie")
    r = b.client.get("/dossiers")
    assert "En retard" in _row(r, late)
    assert "Email envoyé" in _row(r, emailed)
    assert "1 action en retard" in _row(r, busy)
    assert "En retard" not in _row(r, busy)
    only_late = _groups(b.client.get("/dossiers?retard=1"))
    assert [i for ids in only_late.values() for i in ids] == [late]


def test_pages__mes_dossiers_search_ignores_case_accents_and_phone_spacing(site):  # noqa: F811
    adv = site.advisors["corniche"]
    with site.engine.begin() as conn:
        helene, _, _ = case_for(conn, adv, first_name="Hélène", last_name="Léger", phone="+33611223344")
        other, _, k_other = case_for(conn, adv, first_name="Marc", last_name="Durand", phone="+33699887766")
    b = site.logged_in("marie")

    def found(q: str) -> list[int]:
        return [i for ids in _groups(b.client.get("/dossiers", params={"q": q})).values() for i in ids]

    assert found("helene") == [helene]
    assert found("LEGER hélène") == [helene]
    assert found("06 11 22 33 44") == [helene]
    assert found("06.11.22.33.44") == [helene]
    assert found("+33 6 99 88 77 66") == [other]
    assert found(k_other.lower()) == [other]
    assert found(str(other)) == [other]
    assert found("inconnu") == []
    assert "Aucun dossier pour « inconnu »" in text_of(html(b.client.get("/dossiers?q=inconnu")).css_first("#results"))


def test_pages__mes_dossiers_htmx_swaps_only_the_results(site):  # noqa: F811
    with site.engine.begin() as conn:
        case_for(conn, site.advisors["corniche"], first_name="Hélène")
    b = site.logged_in("marie")
    r = b.client.get("/dossiers?q=helene", headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<div id="results"') and "<html" not in r.text


def test_pages__mes_dossiers_is_my_cases_by_default_and_never_another_agency(site):  # noqa: F811
    with site.engine.begin() as conn:
        mine, _, _ = case_for(conn, site.advisors["corniche"])
        colleague = f.advisor(conn, agency_id="corniche", name="Collègue")
        theirs, _, _ = case_for(conn, colleague)
        rouviere, _, _ = case_for(conn, site.advisors["rouviere"], agency="rouviere")
    b = site.logged_in("marie")
    ids = lambda r: sorted(i for g in _groups(r).values() for i in g)  # noqa: E731
    assert ids(b.client.get("/dossiers")) == [mine]
    assert ids(b.client.get("/dossiers?perimetre=agence")) == sorted([mine, theirs])
    assert ids(b.client.get("/dossiers?perimetre=agence&agence=rouviere")) == sorted([mine, theirs])
    manager = site.logged_in("paul")
    assert ids(manager.client.get("/dossiers")) == sorted([mine, theirs])
    assert ids(manager.client.get(f"/dossiers?perimetre=agence&conseiller={colleague}")) == [theirs]
    compliance = site.logged_in("claire")
    assert ids(compliance.client.get("/dossiers?agence=rouviere")) == [rouviere]


def test_pages__mes_dossiers_filters_by_state(site, now):  # noqa: F811
    adv = site.advisors["corniche"]
    with site.engine.begin() as conn:
        a, _, _ = case_for(conn, adv)
        b_, _, _ = case_for(conn, adv)
    execute(site.engine, b_, 1, FireEvent("joindre"), "user:test", now)
    b = site.logged_in("marie")
    r = b.client.get("/dossiers?etat=joint_rdv")
    assert [i for g in _groups(r).values() for i in g] == [b_]
    assert html(r).css_first('select[name="etat"] option[selected]').attributes["value"] == "joint_rdv"


def test_pages__user_provided_text_is_escaped(site):  # noqa: F811
    with site.engine.begin() as conn:
        case_id, _, _ = case_for(conn, site.advisors["corniche"], first_name="<script>alert(1)</script>")
    b = site.logged_in("marie")
    for path in ("/dossiers", f"/dossiers/{case_id}", "/dossiers?q=%3Cscript%3E"):
        body = b.client.get(path).text
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
