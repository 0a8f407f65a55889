"""The command line speaks French: every command's and group's help, click's and typer's own strings
(the help's layout, the errors), whatever the terminal's locale (cli/i18n.py, cli/locale/)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cli import locale_build, main

ROOT = Path(__file__).parents[2]

# Common English words with no French homograph, outside option names (--reassign-to), file names
# and identifiers: one of them in a help text means a string was left in English. (Not verbs like
# "list" or "add": the subcommands keep their English names.)
ENGLISH = re.compile(r"(?<![\w'./-])(the|and|of|to|is|are|with|for|from|this|that|which|when|by|into|only|not|"
                     r"show|shows|missing|default|required|error|commands?|try|such|invalid|must|should|"
                     r"will|was|were|has|have|your|its|their)(?![\w'/-])", re.I)
CHROME = ("Usage:", "Show this message", "[default:", "[required]", "env var", "Try '", "COMMAND [ARGS]")


def english_in(text: str) -> list[str]:
    return sorted({m.group(0) for m in ENGLISH.finditer(text)} | {c for c in CHROME if c in text})


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main.app, list(args), prog_name="m3",
                              env={"COLUMNS": "120", "LANGUAGE": "en", "LANG": "en_US.UTF-8"})


def every_command() -> list[tuple[tuple[str, ...], click.Command]]:
    """(path, command) of every command and group under `m3`, the root first."""
    main.load_all()
    found = []

    def walk(path: tuple[str, ...], cmd) -> None:
        found.append((path, cmd))
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk((*path, name), sub)

    walk((), get_command(main.app))
    return found


COMMANDS = every_command()


def test_cli__heuristic_flags_english_and_spares_french():
    assert set(english_in("Show the outbox: counts by status")) == {"Show", "the", "by"}
    assert english_in("Usage: m3 [OPTIONS]") == ["Usage:"]
    assert english_in("Désactiver un conseiller --reassign-to AUTRE ; states/data/products.toml, system:import, "
                      "l'import, emails, courriers, case-<n°>-audit.json, M3_TODAY, [par défaut : 20]") == []


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) or "m3" for p, _ in COMMANDS])
def test_cli__help_of_every_command_and_group_is_french(path, cmd):
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Utilisation : m3" in text and "Afficher cette aide et quitter." in text
    assert not english_in(text), f"m3 {' '.join(path)} --help looks English: {english_in(text)}\n{text}"
    assert (cmd.help or "").strip(), f"m3 {' '.join(path)}: no help"
    summary = (cmd.help or "").strip().split("\n\n")[0]
    assert "\n" not in summary, f"m3 {' '.join(path)}: the one-line help (first paragraph) spans lines: {summary!r}"
    for param in cmd.params:
        assert getattr(param, "help", None), f"m3 {' '.join(path)}: {param.name} has no help"


def test_cli__listing_shows_each_command_static_one_line_help_in_french():
    text = run("--help").output
    for name, module in main.COMMANDS.items():
        summary = main.static_help(module)[name]
        assert summary and "\n" not in summary, f"{name}: {summary!r}"
        assert not english_in(summary), f"{name}: {summary!r}"
        assert re.search(rf"│ {re.escape(name)} +{re.escape(summary[:30])}", text), f"{name} not listed:\n{text}"
    assert "Commandes" in text and "COMMANDE [ARGS]..." in text


# The parser's own errors (an option's value) come without the usage line, as in typer.
@pytest.mark.parametrize("args,french,usage", [
    (["nosuch"], "Commande 'nosuch' inconnue.", True),
    (["audit", "export"], "Argument manquant : 'DOSSIER'.", True),
    (["advisors", "name", "x"], "Option manquante : '--last-name'.", True),
    (["audit", "export", "abc"], "Valeur invalide pour 'DOSSIER' : 'abc' n'est pas un nombre entier.", True),
    (["cohort", "--month"], "L'option '--month' attend une valeur.", False),
    (["cohort", "--mnth", "2026-04"], "Option '--mnth' inconnue. Vouliez-vous dire '--month' ?", True),
    (["cohort", "--dry-run=oui"], "L'option '--dry-run' ne prend pas de valeur.", False),
    (["cohort", "--month", "2026-13"], "Valeur invalide pour '--month' : mois attendu au format AAAA-MM", True),
    (["status", "en-trop"], "Argument inattendu en trop (en-trop)", True),
    (["demo-data", "--contracts", "0"], "Valeur invalide pour '--contracts' : Doit valoir au moins 1 (reçu : 0).",
     True),
])
def test_cli__usage_errors_are_french(args, french, usage):
    result = run(*args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.replace("│", " ").split())  # the error panel's lines, joined
    assert french in text and "╭─ Erreur ─" in result.output, text
    if usage:
        assert "Utilisation : m3" in text and "Saisissez « m3" in text, text
    assert not english_in(text), f"{args}: {english_in(text)}\n{result.output}"


def test_cli__a_run_leaves_the_language_of_the_environment_as_it_was(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "en")
    assert "Afficher cette aide" in CliRunner().invoke(main.app, ["--help"]).output
    assert os.environ["LANGUAGE"] == "en"
    monkeypatch.delenv("LANGUAGE")
    CliRunner().invoke(main.app, ["--help"])
    assert "LANGUAGE" not in os.environ


def test_cli__m3_is_french_in_an_english_terminal(tmp_path):
    env = dict(os.environ, LANG="en_US.UTF-8", LC_ALL="en_US.UTF-8", LANGUAGE="en_US:en", COLUMNS="120",
               M3_DATA_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "cli", "cohort", "--help"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Utilisation : m3 cohort" in out.stdout and "[variable d'environnement : M3_TODAY]" in out.stdout
    assert not english_in(out.stdout), out.stdout
    err = subprocess.run([sys.executable, "-m", "cli", "nosuch"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert err.returncode == 2 and "Commande 'nosuch' inconnue." in err.stderr, err.stderr


def test_cli__french_catalogue_covers_click_and_typer_and_its_mo_is_compiled_from_the_po():
    """Fails on a msgid of the installed click/typer (or cli/i18n.py) missing or untranslated in the .po,
    on an obsolete entry or a translation with other placeholders, and on a stale .mo
    (fix: edit cli/locale/fr/LC_MESSAGES/messages.po, then `python -m cli.locale_build`)."""
    assert locale_build.problems() == []


def test_cli__stale_mo_is_detected(tmp_path, monkeypatch):
    stale = tmp_path / "messages.mo"
    stale.write_bytes(locale_build.MO.read_bytes().replace("Afficher cette aide".encode(), b"Afficher cette AIDE"))
    monkeypatch.setattr(locale_build, "MO", stale)
    assert locale_build.problems() == ["messages.mo is stale: run python -m cli.locale_build"]
