"""The CRM import and people (issue 7), on both databases: the optional `civility` column, the
advisors' first and last names split from the CRM's full name, and the length limits of the
fields printed on letters."""
from __future__ import annotations

from sqlalchemy import select

from states.people import CLIENT_TEXT_LIMITS
from store.csv_source import COLUMNS
from store.importer import import_file
from store.tables import Advisor, Client
from tests.import_csv import row, write_csv

WITH_CIVILITY = COLUMNS + ("civility",)


def _clients(engine):
    with engine.connect() as conn:
        return {c.id: c for c in conn.execute(select(Client.__table__))}


def test_importer__civility_is_read_when_the_export_has_the_column(engine, tmp_path):
    rows = [row(contract_id="K1", client_id="C1", civility="Mme"), row(contract_id="K2", client_id="C2", civility="M"),
            row(contract_id="K3", client_id="C3", civility="Monsieur"), row(contract_id="K4", client_id="C4", civility=""),
            row(contract_id="K5", client_id="C5", civility="Docteur")]
    summary = import_file(engine, write_csv(tmp_path / "a.csv", rows, columns=WITH_CIVILITY))
    assert (summary.imported, summary.rejected) == (5, 0)  # an unknown civility is not a rejection
    assert {k: c.civility for k, c in _clients(engine).items()} == {
        "C1": "Mme", "C2": "M.", "C3": "M.", "C4": None, "C5": None}
    # The column anywhere in the header, like the others.
    moved = ("civility",) + COLUMNS
    import_file(engine, write_csv(tmp_path / "b.csv", [row(contract_id="K6", client_id="C6", civility="Madame")],
                                  columns=moved))
    assert _clients(engine)["C6"].civility == "Mme"


def test_importer__an_export_without_the_column_keeps_the_stored_civility(engine, tmp_path):
    import_file(engine, write_csv(tmp_path / "a.csv", [row(civility="Mme")], columns=WITH_CIVILITY))
    again = import_file(engine, write_csv(tmp_path / "b.csv", [row(city="Aubagne")]))  # older export, city changed
    assert (again.updated, again.rejected) == (1, 0)
    client = _clients(engine)["C1"]
    assert (client.civility, client.city) == ("Mme", "Aubagne")
    # A file without the column hashes as before: re-importing it writes nothing.
    assert import_file(engine, write_csv(tmp_path / "b.csv", [row(city="Aubagne")])).updated == 0
    # The column back with another value: taken.
    assert import_file(engine, write_csv(tmp_path / "c.csv", [row(city="Aubagne", civility="M.")],
                                         columns=WITH_CIVILITY)).updated == 1
    assert _clients(engine)["C1"].civility == "M."


def test_importer__a_row_of_the_wrong_width_is_still_rejected_with_the_optional_column(engine, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(civility="Mme")], columns=WITH_CIVILITY)
    path.write_bytes(path.read_bytes() + b"K9;C9;particulier\r\n")
    summary = import_file(engine, path)
    assert summary.rejected == 1 and summary.rejections[0].reason == "3 colonnes au lieu de 28"


def test_importer__created_advisors_get_first_and_last_names_split_from_the_crm_name(engine, tmp_path):
    rows = [row(contract_id="K1", client_id="C1", advisor="Margaret Hebert", seller="DUPONT Marie"),
            row(contract_id="K2", client_id="C2", advisor="Jean de La Fontaine", seller="Jean de La Fontaine")]
    summary = import_file(engine, write_csv(tmp_path / "a.csv", rows))
    assert sorted(n for n, _ in summary.advisors_created) == ["DUPONT Marie", "Jean de La Fontaine", "Margaret Hebert"]
    with engine.connect() as conn:
        names = {a.name: (a.first_name, a.last_name, a.title) for a in conn.execute(select(Advisor.__table__))}
    assert names == {"Margaret Hebert": ("Margaret", "Hebert", None), "DUPONT Marie": ("Marie", "DUPONT", None),
                     "Jean de La Fontaine": ("Jean", "de La Fontaine", None)}
    # Matching stays on the CRM's name: a re-import (any case or spacing) creates nobody.
    again = import_file(engine, write_csv(tmp_path / "b.csv", [row(contract_id="K3", client_id="C3",
                                                                    advisor="margaret  HEBERT", seller="")]))
    assert again.advisors_created == []


def test_importer__printed_fields_longer_than_their_limit_are_rejected_with_the_column(engine, tmp_path):
    at_limit = {name: "x" * limit for name, limit in CLIENT_TEXT_LIMITS.items()}
    rows = [row(contract_id="K1", client_id="C1", **at_limit)]
    rows += [row(contract_id=f"K{i}", client_id=f"C{i}", **{name: "x" * (limit + 1)})
             for i, (name, limit) in enumerate(CLIENT_TEXT_LIMITS.items(), start=2)]
    summary = import_file(engine, write_csv(tmp_path / "a.csv", rows))
    assert summary.imported == 1
    assert {(r.column, r.reason) for r in summary.rejections} == {
        (name, f"valeur trop longue ({limit + 1} caractères, maximum {limit})")
        for name, limit in CLIENT_TEXT_LIMITS.items()}


def test_importer__a_civility_corrected_on_the_case_stands_until_the_crm_sends_a_new_one(engine, tmp_path, now):
    from states.commands import CorrectClient
    from store.write_path import execute
    from tests import factories as f

    import_file(engine, write_csv(tmp_path / "a.csv", [row(civility="")], columns=WITH_CIVILITY), now=now)
    with engine.begin() as conn:
        case_id = f.case(conn, "C1", ["K1"], None)
    result = execute(engine, case_id, 1, CorrectClient({"civility": "Madame"}), "user:marie", now)
    assert result.changes == {"client.civility": [None, "Mme"]}
    # The CRM row changes (the city) but still says "unknown": the correction stands.
    summary = import_file(engine, write_csv(tmp_path / "b.csv", [row(civility="", city="Aubagne")],
                                            columns=WITH_CIVILITY), now=now)
    assert _clients(engine)["C1"].civility == "Mme"
    assert [(c.field, c.kind) for c in summary.conflicts] == [("civility", "standing")]
    # An export without the column: nothing to resolve, the correction stays.
    import_file(engine, write_csv(tmp_path / "c.csv", [row(city="Cassis")]), now=now)
    assert _clients(engine)["C1"].civility == "Mme"
    # The CRM sends a civility of its own: taken.
    taken = import_file(engine, write_csv(tmp_path / "d.csv", [row(civility="M.", city="Cassis")],
                                          columns=WITH_CIVILITY), now=now)
    assert _clients(engine)["C1"].civility == "M."
    assert [(c.field, c.kind) for c in taken.conflicts] == [("civility", "crm_taken")]
