"""The case page: sections in the order of the call, record work through the shared step, refusals
rendered like the JSON API's problems, stale versions, scoping; on both databases."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from store.snapshot import ATTEMPT, CASE
from tests.integration.pages_support import case_for, html, site, text_of  # noqa: F401


def _case(site) -> int:
    with site.engine.begin() as conn:
        case_id, _, _ = case_for(conn, site.advisors["corniche"])
    return case_id


def _state(site, case_id: int) -> tuple[str, int]:
    with site.engine.connect() as conn:
        row = conn.execute(select(CASE.c.state, CASE.c.version).where(CASE.c.id == case_id)).one()
    return row.state, row.version


def test_pages__case_sections_follow_the_order_of_the_call(site):  # noqa: F811
    case_id = _case(site)
    tree = html(site.logged_in("marie").client.get(f"/dossiers/{case_id}"))
    ids = [s.attributes["id"] for s in tree.css("#case-body > section")]
    assert ids == ["script", "fiche", "contrats", "appel", "notes", "bilan", "actions", "etapes", "journal"]
    assert "Marie Dupont" in text_of(tree.css_first("h1"))
    # Every form carries the CSRF token and the version (the pages' If-Match).
    forms = tree.css("#case-body form")
    assert forms and all(f.css_first('input[name="csrf_token"]') and f.css_first('input[name="version"]')
                         for f in forms)


def test_pages__case_fiche_shows_each_field_status_and_reason_inline(site):  # noqa: F811
    with site.engine.begin() as conn:
        case_id, _, _ = case_for(conn, site.advisors["corniche"], email=None, phone="0612")
    tree = html(site.logged_in("marie").client.get(f"/dossiers/{case_id}"))
    assert "✗ email manquant" in text_of(tree.css_first("label.field-email"))
    assert "téléphone invalide" in text_of(tree.css_first("label.field-phone"))
    assert "✓" in text_of(tree.css_first("label.field-city"))
    assert "agence et chargé de clientèle à confirmer" in text_of(tree.css_first("#fiche"))


def test_pages__recording_a_call_swaps_the_case_body_with_the_new_version(site):  # noqa: F811
    case_id = _case(site)
    b = site.logged_in("marie")
    r = b.post_case(case_id, "appel", {"outcome": "reached", "basis": "solicitation"})
    assert r.status_code == 200
    body = html(r).css_first("#case-body")
    assert body is not None and "<html" not in r.text  # a partial, not a page
    assert body.attributes["data-version"] == "2"
    assert "Appel enregistré" in text_of(body.css_first("#msg-appel"))
    assert "Joint / RDV" in text_of(body.css_first(".case-head"))
    assert _state(site, case_id) == ("joint_rdv", 2)


def test_pages__plain_post_redirects_303_with_a_message(site):  # noqa: F811
    case_id = _case(site)
    b = site.logged_in("marie")
    r = b.post_case(case_id, "appel", {"outcome": "no_answer"}, htmx=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/dossiers/{case_id}#appel")
    assert "Appel enregistré" in b.client.get(r.headers["location"]).text


def test_pages__stale_version_says_the_case_changed_and_offers_a_reload(site):  # noqa: F811
    case_id = _case(site)
    first, second = site.logged_in("marie"), site.logged_in("marie")
    assert first.post_case(case_id, "appel", {"outcome": "no_answer"}).status_code == 200
    r = second.post_case(case_id, "appel", {"outcome": "voicemail"}, version=1)
    assert r.status_code == 409
    assert r.headers["HX-Retarget"] == "#notice"
    box = html(r).css_first(".problem.stale")
    assert "Le dossier a changé" in text_of(box) and "Rien n'a été enregistré" in text_of(box)
    assert box.css_first("a.button").attributes["href"] == f"/dossiers/{case_id}"
    r = second.post_case(case_id, "appel", {"outcome": "voicemail"}, version=1, htmx=False)
    assert r.status_code == 409 and "Le dossier a changé" in r.text and "<html" in r.text  # never an error page
    with site.engine.connect() as conn:
        assert conn.execute(select(ATTEMPT.c.outcome).where(ATTEMPT.c.case_id == case_id)).scalars().all() == \
            ["no_answer"]


def test_pages__unmet_guards_are_listed_like_the_json_problem(site):  # noqa: F811
    with site.engine.begin() as conn:
        case_id, _, _ = case_for(conn, site.advisors["corniche"], email=None)
    b = site.logged_in("marie")
    b.post_case(case_id, "appel", {"outcome": "reached"})
    tree = html(b.client.get(f"/dossiers/{case_id}"))
    valider = [e for e in tree.css("#etapes .event") if "Valider la fiche" in text_of(e)][0]
    assert "disabled" in valider.css_first("button").attributes
    assert "email manquant" in text_of(valider)
    r = b.post_case(case_id, "etape", {"event": "valider_fiche"})
    assert r.status_code == 422 and r.headers["HX-Retarget"] == "#msg-etapes"
    box = html(r).css_first(".problem")
    assert box.attributes["data-code"] == "guard_failed"
    codes = [text_of(c) for c in box.css("li code")]
    assert "email" in codes and "assignment" in codes


def test_pages__only_the_transitions_allowed_now_are_buttons(site):  # noqa: F811
    from states.lifecycle import EVENTS, allowed_events

    case_id = _case(site)
    tree = html(site.logged_in("marie").client.get(f"/dossiers/{case_id}"))
    shown = [e.attributes["value"] for e in tree.css('#etapes input[name="event"]')]
    assert sorted(shown) == sorted(allowed_events("a_contacter"))
    labels = [text_of(b) for b in tree.css("#etapes button")]
    assert all(EVENTS[e].label in labels for e in shown)


def test_pages__call_outside_the_hours_is_refused_with_reasons_then_recorded_inbound(site):  # noqa: F811
    case_id = _case(site)
    site.clock.now = datetime(2026, 4, 18, 9, 0, tzinfo=timezone.utc)  # Saturday 11:00 in Paris
    b = site.logged_in("marie")
    tree = html(b.client.get(f"/dossiers/{case_id}"))
    status = text_of(tree.css_first(".call-status"))
    assert "non autorisé maintenant" in status and "week-end" in status
    assert "Prochain créneau autorisé : lundi 20 avril à 10:00" in status
    r = b.post_case(case_id, "appel", {"outcome": "reached"})
    assert r.status_code == 422 and r.headers["HX-Retarget"] == "#msg-appel"
    assert html(r).css_first(".problem").attributes["data-code"] == "calling_rules"
    assert "pas d'appel le week-end" in text_of(html(r).css_first(".problem"))
    r = b.post_case(case_id, "appel", {"outcome": "inbound"})
    assert r.status_code == 200 and _state(site, case_id) == ("joint_rdv", 2)
    with site.engine.connect() as conn:
        assert conn.execute(select(ATTEMPT.c.direction).where(ATTEMPT.c.case_id == case_id)).scalar_one() == "inbound"


def test_pages__attempt_time_is_read_in_the_clients_time_zone(site):  # noqa: F811
    case_id = _case(site)
    b = site.logged_in("marie")
    assert b.post_case(case_id, "appel", {"outcome": "no_answer", "at": "2026-04-14T16:05"}).status_code == 200
    with site.engine.connect() as conn:
        at = conn.execute(select(ATTEMPT.c.at).where(ATTEMPT.c.case_id == case_id)).scalar_one()
    assert at == datetime(2026, 4, 14, 14, 5, tzinfo=timezone.utc)


def test_pages__fiche_correction_sends_only_what_changed_and_invalid_values_are_named(site):  # noqa: F811
    case_id = _case(site)
    b = site.logged_in("marie")
    tree = html(b.client.get(f"/dossiers/{case_id}"))
    form = tree.css_first("form.fiche-form")
    data = {i.attributes["name"]: i.attributes.get("value") or "" for i in form.css("input")
            if i.attributes.get("type") not in ("checkbox", "hidden")}
    data.update({s.attributes["name"]: (s.css_first("option[selected]").attributes.get("value") or "")
                 if s.css_first("option[selected]") else "" for s in form.css("select")})
    r = b.post_case(case_id, "fiche", dict(data, phone="01 02"))
    assert r.status_code == 422 and html(r).css_first(".problem").attributes["data-code"] == "invalid_change"
    assert "phone" in r.text
    r = b.post_case(case_id, "fiche", dict(data, email="nouvelle.adresse@example.fr"))
    assert r.status_code == 200
    with site.engine.connect() as conn:
        from store import audit
        last = audit.trail(conn, case_id)[-1]
    assert last["action"] == "correct_client" and list(last["changes"]) == ["client.email"]
    r = b.post_case(case_id, "fiche", dict(data, email="nouvelle.adresse@example.fr"))
    assert "Aucune modification" in r.text and _state(site, case_id)[1] == 2


def test_pages__waiving_a_document_needs_a_reason(site):  # noqa: F811
    with site.engine.begin() as conn:
        case_id, _, k = case_for(conn, site.advisors["corniche"])
    b = site.logged_in("marie")
    r = b.post_case(case_id, "piece", {"contract_id": k, "code": "cni", "status": "waived"})
    assert r.status_code == 422 and "motivée" in r.text
    r = b.post_case(case_id, "piece", {"contract_id": k, "code": "cni", "status": "waived",
                                       "waiver_reason": "CNI déjà au dossier"})
    assert r.status_code == 200 and "CNI déjà au dossier" in text_of(html(r).css_first("#contrats"))


def test_pages__advisor_cannot_open_or_work_another_agencys_case(site):  # noqa: F811
    with site.engine.begin() as conn:
        other, _, _ = case_for(conn, site.advisors["rouviere"], agency="rouviere")
    b = site.logged_in("marie")
    r = b.client.get(f"/dossiers/{other}")
    assert r.status_code == 404 and "introuvable" in r.text and "<html" in r.text
    token = b.csrf("/dossiers")
    r = b.client.post(f"/dossiers/{other}/appel", data={"csrf_token": token, "version": "1", "outcome": "reached"})
    assert r.status_code == 404
    assert _state(site, other) == ("a_contacter", 1)


def test_pages__compliance_reads_a_case_but_cannot_change_it(site):  # noqa: F811
    case_id = _case(site)
    b = site.logged_in("claire")
    assert b.client.get(f"/dossiers/{case_id}").status_code == 200
    r = b.post_case(case_id, "appel", {"outcome": "reached"}, htmx=False)
    assert r.status_code == 403 and "ne permet pas" in r.text
    assert _state(site, case_id) == ("a_contacter", 1)


def test_pages__case_post_without_csrf_is_refused(site):  # noqa: F811
    case_id = _case(site)
    b = site.logged_in("marie")
    r = b.client.post(f"/dossiers/{case_id}/appel", data={"version": "1", "outcome": "reached"})
    assert r.status_code == 403
    assert _state(site, case_id) == ("a_contacter", 1)


def test_pages__simulated_date_banner(site):  # noqa: F811
    from datetime import date

    case_id = _case(site)
    b = site.logged_in("marie")
    assert html(b.client.get("/dossiers")).css_first(".banner-sim") is None
    site.app.state.simulated_today = date(2026, 4, 15)
    for path in ("/dossiers", f"/dossiers/{case_id}", "/compte"):
        assert "Date simulée" in text_of(html(b.client.get(path)).css_first(".banner-sim"))


def test_pages__unknown_page_is_an_html_404_and_the_api_stays_json(site):  # noqa: F811
    b = site.logged_in("marie")
    r = b.client.get("/nulle-part")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = b.client.get("/api/nulle-part")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_pages__htmx_refusal_of_another_agencys_case_goes_to_the_notice(site):  # noqa: F811
    with site.engine.begin() as conn:
        other, _, _ = case_for(conn, site.advisors["rouviere"], agency="rouviere")
    b = site.logged_in("marie")
    r = b.client.post(f"/dossiers/{other}/appel", data={"csrf_token": b.csrf("/dossiers"), "version": "1",
                                                         "outcome": "reached"}, headers={"HX-Request": "true"})
    assert r.status_code == 404 and r.headers["HX-Retarget"] == "#notice"
    assert "introuvable" in text_of(html(r).css_first(".problem")) and "<html" not in r.text
