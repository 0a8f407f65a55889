"""`m3` imports what the command it runs uses, and nothing else (issue 10): a test of the import
graph, not of time. Each check runs the command in a fresh interpreter and reads `sys.modules`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROBE = """
import json, sys
from cli.main import app
try:
    app(sys.argv[1:], prog_name="m3", standalone_mode=False)
except SystemExit:
    pass
print("@@MODULES@@" + json.dumps(sorted(sys.modules)))
"""
HEAVY_EVERYWHERE = {"fpdf", "fontTools", "PIL", "faker", "prefect", "fastapi", "uvicorn", "pypdf", "playwright"}
# What the read paths of the command line do without (docs/performance-cli-http.md): the SQLModel
# classes (pydantic models and ORM mappers built at import; the code uses the Core tables of
# store/tables.py), the ORM, and the validation libraries of the fiche (only used to validate).
NOT_FOR_READING = {"sqlmodel", "store.models", "sqlalchemy.orm", "phonenumbers", "email_validator", "stdnum"}


def modules_of(args: list[str], tmp_path: Path) -> set[str]:
    env = dict(os.environ, M3_DATA_DIR=str(tmp_path), M3_DATABASE_URL=f"sqlite:///{tmp_path / 'm3.db'}")
    env.pop("M3_PREFECT_API_URL", None)
    env.pop("PREFECT_API_URL", None)
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    marker = out.stdout.rfind("@@MODULES@@")
    assert marker >= 0, out.stdout + out.stderr
    names = json.loads(out.stdout[marker + len("@@MODULES@@"):])
    return set(names) | {m.split(".")[0] for m in names}  # each module and its top-level package


def test_cli__help_imports_no_database_no_pdf_no_prefect(tmp_path):
    loaded = modules_of(["--help"], tmp_path)
    assert not loaded & (HEAVY_EVERYWHERE | {"sqlalchemy", "sqlmodel", "alembic", "store", "states", "notifications"})


def test_cli__status_on_an_up_to_date_database_imports_neither_alembic_nor_pdf(tmp_path):
    modules_of(["db", "upgrade"], tmp_path)  # the first run migrates: alembic then, and only then
    loaded = modules_of(["status"], tmp_path)
    assert "sqlalchemy" in loaded
    assert not loaded & (HEAVY_EVERYWHERE | NOT_FOR_READING | {"alembic", "jinja2"})


def test_cli__cohort_dry_run_runs_in_process_without_prefect_or_pdf(tmp_path):
    modules_of(["db", "upgrade"], tmp_path)
    loaded = modules_of(["cohort", "--month", "2026-04", "--today", "2026-03-25", "--dry-run"], tmp_path)
    assert "flows.cohort" in loaded
    # Nor the write path and the domain's commands (a dry run joins nothing) nor the other flows.
    assert not loaded & (HEAVY_EVERYWHERE | NOT_FOR_READING | {"alembic", "store.write_path", "states.commands",
                                                              "flows.escalation", "flows.reminders"})


def test_cli__every_command_of_the_modules_is_in_the_table_and_has_french_static_help():
    from typer.main import get_command

    from cli import main
    main.load_all()
    registered = set(get_command(main.app).commands)
    assert registered == set(main.COMMANDS)
    for name, module in main.COMMANDS.items():
        assert main.static_help(module).get(name), f"{name}: no help readable from {module}"
