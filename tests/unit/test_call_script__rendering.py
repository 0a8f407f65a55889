"""The call script (notifications/call_script.py): the seeds' openings filled for the case, the
L221-16 presentation no template can remove, and a broken agency template that falls back to
the default with its error (never an exception)."""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from types import SimpleNamespace as Row

import pytest

from notifications import call_script as cs

ADVISOR = Row(id=7, name="Margaret Hebert", first_name="Margaret", last_name="Hebert", title="Chargée de clientèle")
JULIEN = Row(id=8, name="Julien Morel", first_name="Julien", last_name="Morel", title=None)
ADVISORS = {7: ADVISOR, 8: JULIEN}


def _case(assigned=7, civility="Mme", kind="particulier", **client):
    values = dict(id=1, agency_id="corniche", assigned_advisor_id=assigned, kind=kind, civility=civility,
                  first_name="Marie", last_name="Durand", company_name=None, insurance_contact=None, client_id="C1")
    values.update(client)
    return Row(**values)


def _contracts(*pairs):
    return [Row(product=p, family="IARD", effective_date=date(2026, 1, 15), seller_id=s) for p, s in pairs]


def _render(tmp_path: Path, row=None, contracts=None, topics=(), template: str | None = None):
    data = cs.build_data(row or _case(), contracts or _contracts(("Auto", 8)), ADVISORS, list(topics))
    if template is not None:
        (tmp_path / "corniche.md.j2").write_text(template, "utf-8")
    return cs.render(data, "corniche", tmp_path)


def test_call_script__seller_known_names_them_and_the_advisor_takes_over(tmp_path):
    out = _render(tmp_path)
    assert out.source == "agency"  # the agency's file, just created from the default
    assert out.error is None
    assert "> C'est Julien qui a assuré votre contrat auto et c'est moi qui vais vous suivre et gérer votre dossier. " \
           "Est-ce que vous avez quelques minutes, ou on prend un rendez-vous téléphonique ?" in out.text
    assert "Nous sommes à présent votre assureur pour votre auto. Qui sont vos autres assureurs ?" in out.text
    assert "il y a 3 mois vous avez souscrit votre contrat auto." in out.text  # the satisfaction opening


def test_call_script__seller_unknown_says_so_naturally(tmp_path):
    out = _render(tmp_path, contracts=_contracts(("Auto", None)))
    assert "> Vous avez souscrit votre contrat auto chez nous et c'est moi qui vais vous suivre et gérer votre " \
           "dossier." in out.text
    assert "C'est  qui" not in out.text and "None" not in out.text


def test_call_script__seller_is_the_advisor(tmp_path):
    out = _render(tmp_path, contracts=_contracts(("Auto", 7)))
    assert "> C'est moi qui ai assuré votre contrat auto et qui vais suivre votre dossier." in out.text


def test_call_script__several_contracts_and_sellers(tmp_path):
    out = _render(tmp_path, contracts=_contracts(("Auto", 8), ("Multirisque habitation", 7)))
    assert "C'est Julien qui a assuré votre contrat auto ; c'est moi qui ai assuré votre contrat multirisque " \
           "habitation et qui vais suivre l'ensemble de votre dossier." in out.text
    assert "vous avez souscrit votre contrat auto et votre contrat multirisque habitation." in out.text
    assert "votre assureur pour votre auto et votre multirisque habitation." in out.text


def test_call_script__presentation_names_who_calls_the_agency_and_the_review(tmp_path):
    out = _render(tmp_path)
    assert out.fixed.startswith("Bonjour Madame Durand, je suis Margaret Hebert, chargée de clientèle à l'Agence "
                                "Corniche (Allianz — Agent général).")
    assert "faire le point sur l'ensemble de vos assurances" in out.fixed  # the commercial purpose (L221-16)
    assert out.text.startswith("**Présentation (obligatoire, art. L221-16 du Code de la consommation)**\n\n> "
                               + out.fixed)


def test_call_script__unknown_civility_uses_the_full_name_and_an_unassigned_case_the_agency(tmp_path):
    out = _render(tmp_path, row=_case(assigned=None, civility=None))
    assert out.fixed.startswith("Bonjour Marie Durand, je vous appelle de la part de l'Agence Corniche")


def test_call_script__an_entreprise_is_greeted_through_its_insurance_contact(tmp_path):
    out = _render(tmp_path, row=_case(kind="entreprise", company_name="Logiciels du Sud SAS",
                                      insurance_contact="Paul Martin, DAF"))
    assert out.fixed.startswith("Bonjour Paul Martin, je suis Margaret Hebert")


def test_call_script__claims_and_questions_since_the_subscription_are_listed(tmp_path):
    topics = [Row(id=1, kind="sinistre", occurred_on=date(2026, 3, 2), summary="Bris de glace", status="open",
                  answer=None),
              Row(id=2, kind="question", occurred_on=date(2026, 3, 9), summary="Franchise ?", status="answered",
                  answer="300 €")]
    out = _render(tmp_path, topics=topics)
    assert "- Sinistre du 02/03/2026 : Bris de glace (en cours)" in out.text
    assert "- Question du 09/03/2026 : Franchise ? (répondu : 300 €)" in out.text


def test_call_script__first_use_creates_the_agency_file_from_the_default_and_edits_are_used(tmp_path):
    assert not (tmp_path / "corniche.md.j2").exists()
    first = _render(tmp_path)
    path = tmp_path / "corniche.md.j2"
    assert path.read_bytes() == cs.DEFAULT_TEMPLATE.read_bytes() and first.template == str(path)
    path.write_text("Script maison pour {{ client.addressed }}.", "utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # a later edit
    edited = cs.render(cs.build_data(_case(), _contracts(("Auto", 8)), ADVISORS, []), "corniche", tmp_path)
    assert edited.source == "agency" and edited.error is None
    assert edited.text.endswith("Script maison pour Madame Durand.\n")


def test_call_script__the_presentation_survives_a_template_that_omits_it(tmp_path):
    out = _render(tmp_path, template="Bonjour, on fait court : {{ contracts_phrase }}.")
    assert out.source == "agency" and out.error is None
    assert "je suis Margaret Hebert, chargée de clientèle à l'Agence Corniche" in out.text
    assert out.text.index("Présentation (obligatoire") < out.text.index("Bonjour, on fait court : votre contrat auto.")


@pytest.mark.parametrize("template, why", [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "opération interdite dans un script"),
    ("{{ cycler.__init__.__globals__ }}", "opération interdite dans un script"),
    ("{% if %}", "erreur de syntaxe (ligne 1)"),
    ("{{ client.nickname }}", "variable inconnue"),
    ("{% for i in range(100000) %}x{% endfor %}", "range() limité"),
    ("{% for i in range(999) %}{{ 'x' * 100 }}{% endfor %}", "texte trop long"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
])
def test_call_script__a_template_that_fails_falls_back_to_the_default_with_its_error(tmp_path, template, why):
    out = _render(tmp_path, template=template)
    assert out.source == "default"
    assert out.error.startswith("modèle corniche.md.j2 inutilisable, script par défaut affiché") and why in out.error
    assert "C'est Julien qui a assuré votre contrat auto" in out.text  # the default, filled for the case
    assert out.fixed in out.text


def test_call_script__an_agency_id_unfit_for_a_file_name_uses_the_default(tmp_path):
    data = cs.build_data(_case(), _contracts(("Auto", 8)), ADVISORS, [])
    out = cs.render(data, "../etc", tmp_path)
    assert out.source == "default" and "inutilisable comme nom de fichier" in out.error
    assert not any(tmp_path.parent.glob("etc*"))


@pytest.mark.parametrize("products, phrase", [
    (["Auto"], "votre contrat auto"),
    (["Auto", "Multirisque habitation"], "votre contrat auto et votre contrat multirisque habitation"),
    (["RC Pro", "Santé TNS", "Auto"], "votre contrat RC Pro, votre contrat santé TNS et votre contrat auto"),
    (["Auto", "Auto"], "vos contrats auto"),
    ([], "votre contrat"),
])
def test_call_script__contracts_phrase(products, phrase):
    assert cs.contracts_phrase(products) == phrase
