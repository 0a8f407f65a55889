"""`m3`: the command line of Suivi M+3. Each group of commands lives in its own module.

Why lazy: importing every command module up front cost `m3 --help` about 2 s (52× `python -c pass`),
85–95 % of it in modules the command never used (fpdf/fontTools/PIL, alembic, Faker, Prefect).
`COMMANDS` names the module of each command, and only the module of the command being run is
imported. `m3 --help` imports none: it reads each command's one-line help from its module's source
(`ast`, a few milliseconds), so the listing and the modules cannot drift apart.
Tests (tests/unit/test_cli__import_graph.py) check that this table and the modules agree, and what
each command imports.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
from functools import lru_cache

import click
import typer
from typer.core import TyperGroup

from cli import i18n

# Command (or group of commands) -> the module whose import registers it on `app`.
COMMANDS = {
    "advisors": "cli.cmd_advisors",
    "audit": "cli.cmd_audit",
    "lifecycle": "cli.cmd_audit",
    "db": "cli.cmd_db",
    "status": "cli.cmd_db",
    "demo-data": "cli.cmd_demo",
    "cohort": "cli.cmd_flows",
    "escalate": "cli.cmd_flows",
    "remind": "cli.cmd_flows",
    "worker": "cli.cmd_flows",
    "import": "cli.cmd_import",
    "outbox": "cli.cmd_outbox",
    "send": "cli.cmd_outbox",
    "products": "cli.cmd_products",
    "serve": "cli.cmd_serve",
    "user": "cli.cmd_user",
}


class LazyGroup(TyperGroup):
    """A command group that imports a command's module the first time the command is run."""

    _listing = False  # formatting the help: unloaded commands show their static help

    def main(self, *args, **kwargs):
        # Every run speaks French, click's and typer's own strings included (cli/i18n.py).
        with i18n.french():
            return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            if self._listing:
                return click.Command(cmd_name, help=static_help(COMMANDS[cmd_name]).get(cmd_name, ""))
            importlib.import_module(COMMANDS[cmd_name])
            # The module registered its commands on the Typer app: rebuild the click group from it.
            self.commands.update(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
        return self.commands.get(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


@lru_cache(maxsize=None)
def static_help(module: str) -> dict[str, str]:
    """{command: help} of what `module` registers on `app`, read from its source without importing it:
    `@app.command("x")` functions (their docstring) and `app.add_typer(g, name="x")` groups
    (`g = typer.Typer(help=...)`)."""
    spec = importlib.util.find_spec(module)
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    groups: dict[str, str] = {}
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1:
            for kw in node.value.keywords:
                if kw.arg == "help" and isinstance(kw.value, ast.Constant) and isinstance(node.targets[0], ast.Name):
                    groups[node.targets[0].id] = kw.value.value
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_typer" and node.args:
            name = next((kw.value.value for kw in node.keywords if kw.arg == "name"), None)
            if name and isinstance(node.args[0], ast.Name):
                found[name] = groups.get(node.args[0].id, "")
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call) and getattr(deco.func, "attr", None) == "command"
                        and getattr(deco.func.value, "id", None) == "app" and deco.args):
                    found[deco.args[0].value] = (ast.get_docstring(node) or "").split("\n\n")[0]
    return found


app = typer.Typer(cls=LazyGroup, help="Suivi M+3 : le suivi des clients trois mois après la souscription.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Journal détaillé sur la sortie d'erreur")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s %(message)s")


def load_all() -> None:
    """Import every command module (the tests and the documentation generator want them all)."""
    for module in sorted(set(COMMANDS.values())):
        importlib.import_module(module)
