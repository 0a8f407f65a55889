"""`m3 import`, `m3 demo-data` and `m3 advisors` through typer's CliRunner, on both databases."""

from tests.import_csv import row, write_csv



def test_cli_import__counts_rejections_file_and_exit_codes(m3, tmp_path):
    path = write_csv(tmp_path / "book.csv", [row(contract_id="K1"), row(contract_id="K2", effective_date="31/02/2024")])
    result = m3("import", str(path))
    assert result.exit_code == 0, result.output
    assert "lues 2 · importées 1 · mises à jour 0 · inchangées 0 · rejetées 1" in result.output
    assert "ligne 3, colonne effective_date" in result.output
    assert "conseiller créé : Paul Martin" in result.output
    rejects = (tmp_path / "book.rejets.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0].startswith("ligne;colonne;motif;contract_id;client_id;") and rejects[1].startswith("3;effective_date;")
    assert rejects[1].endswith(";K2;C1;particulier;Dupont;Marie;;12 rue de la Corniche;13007;Marseille;06 12 34 56 78;"
                               "marie.dupont@example.fr;marié(e);salariée;;;;;;;Corniche;Paul Martin;Paul Martin;IARD;"
                               "Auto;31/02/2024;612,40;active")  # the row as the file held it, to correct there
    again = m3("import", str(path))
    assert "importées 0 · mises à jour 0 · inchangées 1 · rejetées 1" in again.output


def test_cli_import__unreadable_file_exits_2(m3, tmp_path):
    assert m3("import", str(tmp_path / "absent.csv")).exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("a;b\n1;2\n", encoding="utf-8")
    result = m3("import", str(bad))
    assert result.exit_code == 2 and "colonnes manquantes" in result.output


def test_cli_demo_data__writes_a_book_that_imports_cleanly(m3, tmp_path):
    out = tmp_path / "demo.csv"
    result = m3("demo-data", "--out", str(out), "--contracts", "400", "--today", "2026-04-15",
                "--encoding", "cp1252", "--delimiter", ",")
    assert result.exit_code == 0, result.output
    first = out.read_bytes()
    m3("demo-data", "--out", str(out), "--contracts", "400", "--today", "2026-04-15",
       "--encoding", "cp1252", "--delimiter", ",")
    assert out.read_bytes() == first  # deterministic
    imported = m3("import", str(out))
    assert imported.exit_code == 0 and "importées 400" in imported.output and "rejetées 0" in imported.output


def test_cli_advisors__list_add_move_deactivate(m3, tmp_path):
    assert m3("advisors", "add", "Léa Garcia", "--agency", "Corniche", "--email", "lea@agence.example").exit_code == 0
    assert m3("advisors", "add", "léa  GARCIA", "--agency", "Corniche").exit_code == 1  # exists
    moved = m3("advisors", "move", "Léa Garcia", "--agency", "rouviere")
    assert moved.exit_code == 0 and "agence rouviere" in moved.output
    off = m3("advisors", "deactivate", "Léa Garcia")
    assert off.exit_code == 0 and "inactif" in off.output
    listing = m3("advisors", "list", "--agency", "Rouvière")
    assert "Léa Garcia" in listing.output and "inactif" in listing.output
    assert "Léa Garcia" not in m3("advisors", "list", "--agency", "Corniche").output
    assert m3("advisors", "activate", "1").exit_code == 0
    assert m3("advisors", "move", "Personne", "--agency", "Corniche").exit_code == 1
