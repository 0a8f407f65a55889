"""`m3 advisors list|add|move|deactivate|activate`: the agencies' advisors (chargés de clientèle)."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cli.main import app
from store import advisor_admin as admin
from store.db import get_engine

advisors_app = typer.Typer(help="Advisors: list, add, move to another agency, deactivate.", no_args_is_help=True)
app.add_typer(advisors_app, name="advisors")


def _run(action):
    try:
        with get_engine().begin() as conn:
            return action(conn)
    except admin.AdvisorError as exc:
        typer.echo(f"erreur : {exc}", err=True)
        raise typer.Exit(1) from None


def _show(a: admin.AdvisorRow, verb: str) -> None:
    typer.echo(f"{verb} : {a.name} (n° {a.id}, agence {a.agency_id}, {'actif' if a.active else 'inactif'})")


@advisors_app.command("list")
def list_command(agency: str | None = typer.Option(None, "--agency", help="Corniche or Rouvière")) -> None:
    """List advisors with their agency, state and number of clients."""
    rows = _run(lambda conn: admin.list_advisors(conn, agency))
    table = Table(title="Conseillers")
    for col in ("n°", "nom", "agence", "email", "état", "clients"):
        table.add_column(col, justify="right" if col in ("n°", "clients") else "left")
    for r in rows:
        table.add_row(str(r.id), r.name, r.agency_id, r.email or "", "actif" if r.active else "inactif", str(r.clients))
    Console(width=120).print(table)


@advisors_app.command("add")
def add_command(name: str, agency: str = typer.Option(..., "--agency"),
                email: str | None = typer.Option(None, "--email")) -> None:
    """Add an active advisor to an agency."""
    _show(_run(lambda conn: admin.add(conn, name, agency, email)), "ajouté")


@advisors_app.command("move")
def move_command(name_or_id: str, agency: str = typer.Option(..., "--agency")) -> None:
    """Move an advisor to another agency."""
    _show(_run(lambda conn: admin.move(conn, name_or_id, agency)), "déplacé")


@advisors_app.command("email")
def email_command(name_or_id: str, address: str) -> None:
    """Set the address an advisor's digests and reminders go to."""
    _show(_run(lambda conn: admin.set_email(conn, name_or_id, address)), "mis à jour")


@advisors_app.command("deactivate")
def deactivate_command(name_or_id: str) -> None:
    """Deactivate an advisor (kept, with its history; receives no new case)."""
    _show(_run(lambda conn: admin.set_active(conn, name_or_id, False)), "désactivé")


@advisors_app.command("activate")
def activate_command(name_or_id: str) -> None:
    """Reactivate an advisor."""
    _show(_run(lambda conn: admin.set_active(conn, name_or_id, True)), "réactivé")
