"""`m3 advisors` and people (issue 7): first and last names, titles; the demo book's civility
column and its advisors' titles. Through typer's CliRunner, on both databases."""
from __future__ import annotations

import csv

from sqlalchemy import func, select

from store.tables import Advisor, Client


def _advisor(engine, name):
    with engine.connect() as conn:
        return conn.execute(select(Advisor.__table__).where(Advisor.name == name)).one()


def test_cli_advisors__add_splits_the_name_and_takes_a_title(m3, cli_db):
    out = m3("advisors", "add", "Léa Garcia", "--agency", "Corniche", "--title", "Chargée de clientèle")
    assert out.exit_code == 0 and "ajouté : Léa Garcia, Chargée de clientèle" in out.output
    lea = _advisor(cli_db, "Léa Garcia")
    assert (lea.first_name, lea.last_name, lea.title) == ("Léa", "Garcia", "Chargée de clientèle")
    listing = m3("advisors", "list")
    assert "titre" in listing.output and "Chargée de" in listing.output


def test_cli_advisors__name_corrects_the_split_and_keeps_the_crm_spelling(m3, cli_db):
    assert m3("advisors", "add", "Anne Marie Dupont", "--agency", "Corniche").exit_code == 0
    assert (_advisor(cli_db, "Anne Marie Dupont").first_name, _advisor(cli_db, "Anne Marie Dupont").last_name) == (
        "Anne", "Marie Dupont")
    out = m3("advisors", "name", "Anne Marie Dupont", "--first-name", "Anne Marie", "--last-name", "Dupont")
    assert out.exit_code == 0, out.output
    fixed = _advisor(cli_db, "Anne Marie Dupont")  # `name`, the import's key, unchanged
    assert (fixed.first_name, fixed.last_name) == ("Anne Marie", "Dupont")
    assert m3("advisors", "name", str(fixed.id), "--last-name", "  ").exit_code == 1  # a last name is required


def test_cli_advisors__title_set_and_cleared(m3, cli_db):
    assert m3("advisors", "add", "Paul Roux", "--agency", "Rouvière").exit_code == 0
    out = m3("advisors", "title", "Paul Roux", "Chargé de clientèle")
    assert out.exit_code == 0 and "Paul Roux, Chargé de clientèle" in out.output
    assert m3("advisors", "title", "Paul Roux", "").exit_code == 0
    assert _advisor(cli_db, "Paul Roux").title is None
    assert m3("advisors", "title", "Paul Roux", "x" * 101).exit_code == 1  # bounded (ADVISOR_TITLE_LIMIT)


def test_cli_demo_data__carries_a_civility_column_that_imports(m3, cli_db, tmp_path):
    out = tmp_path / "demo.csv"
    assert m3("demo-data", "--out", str(out), "--contracts", "300", "--today", "2026-04-15").exit_code == 0
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    values = {r["civility"] for r in rows}
    assert values <= {"M.", "Mme", ""} and {"M.", "Mme"} <= values
    assert m3("import", str(out)).exit_code == 0
    with cli_db.connect() as conn:
        known = conn.execute(select(func.count()).select_from(Client.__table__)
                             .where(Client.__table__.c.civility.is_not(None))).scalar_one()
        total = conn.execute(select(func.count()).select_from(Client.__table__)).scalar_one()
    assert 0.9 * total <= known < total  # about 3 % left unknown, as a CRM does


def test_demo__advisors_titles_agree_with_their_first_names():
    from store.demo_pools import demo_title

    assert demo_title("Margaret Hebert") == "Chargée de clientèle"
    assert demo_title("Jacques Munoz") == "Chargé de clientèle"
    assert demo_title("Xyz Abc") is None
