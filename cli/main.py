"""`m3`: the command line of Suivi M+3. Each group of commands lives in its own module."""
from __future__ import annotations

import logging

import typer

app = typer.Typer(help="Suivi M+3: the three-month client follow-up.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log to standard error")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s %(message)s")


def _register() -> None:
    # Sub-modules add their commands to `app`; importing them is what registers them.
    import importlib
    import pkgutil

    import cli

    for mod in sorted(m.name for m in pkgutil.iter_modules(cli.__path__)):
        if mod.startswith("cmd_"):
            importlib.import_module(f"cli.{mod}")


_register()
