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
    title = f", {a.title}" if a.title else ""
    typer.echo(f"{verb} : {a.display_name}{title} (n° {a.id}, agence {a.agency_id}, "
               f"{'actif' if a.active else 'inactif'})")


@advisors_app.command("list")
def list_command(agency: str | None = typer.Option(None, "--agency", help="Corniche or Rouvière")) -> None:
    """List advisors with their agency, state and number of clients."""
    rows = _run(lambda conn: admin.list_advisors(conn, agency))
    table = Table(title="Conseillers")
    for col in ("n°", "nom", "titre", "agence", "email", "état", "clients"):
        table.add_column(col, justify="right" if col in ("n°", "clients") else "left")
    for r in rows:
        # The name as letters print it; the CRM's spelling (the import's key) when it differs.
        shown = r.display_name if r.display_name == r.name else f"{r.display_name} (CRM : {r.name})"
        table.add_row(str(r.id), shown, r.title or "", r.agency_id, r.email or "", "actif" if r.active else "inactif",
                      str(r.clients))
    Console(width=120).print(table)


@advisors_app.command("add")
def add_command(name: str, agency: str = typer.Option(..., "--agency"),
                email: str | None = typer.Option(None, "--email"),
                first_name: str | None = typer.Option(None, "--first-name", help="Default: split from NAME"),
                last_name: str | None = typer.Option(None, "--last-name", help="Default: split from NAME"),
                title: str | None = typer.Option(None, "--title", help='e.g. "Chargée de clientèle"')) -> None:
    """Add an active advisor to an agency. NAME as the CRM export spells it (the import matches on it)."""
    _show(_run(lambda conn: admin.add(conn, name, agency, email, first_name=first_name, last_name=last_name,
                                      title=title)), "ajouté")


@advisors_app.command("name")
def name_command(name_or_id: str,
                 first_name: str | None = typer.Option(None, "--first-name", help="Empty: none"),
                 last_name: str = typer.Option(..., "--last-name")) -> None:
    """Set the first and last name letters print (e.g. a compound first name the import split
    wrongly). The CRM's spelling, which the import matches on, is kept."""
    _show(_run(lambda conn: admin.set_names(conn, name_or_id, first_name, last_name)), "mis à jour")


@advisors_app.command("title")
def title_command(name_or_id: str, title: str = typer.Argument(..., help='e.g. "Chargée de clientèle"; "" : none')) -> None:
    """Set the title printed under the advisor's name on emails, letters and the call script."""
    _show(_run(lambda conn: admin.set_title(conn, name_or_id, title)), "mis à jour")


@advisors_app.command("move")
def move_command(name_or_id: str, agency: str = typer.Option(..., "--agency")) -> None:
    """Move an advisor to another agency."""
    _show(_run(lambda conn: admin.move(conn, name_or_id, agency)), "déplacé")


@advisors_app.command("email")
def email_command(name_or_id: str, address: str) -> None:
    """Set the address an advisor's digests and reminders go to."""
    _show(_run(lambda conn: admin.set_email(conn, name_or_id, address)), "mis à jour")


@advisors_app.command("deactivate")
def deactivate_command(
    name_or_id: str,
    reassign_to: str | None = typer.Option(None, "--reassign-to", metavar="AUTRE",
                                           help="The advisor (name or number) who takes over the open cases"),
    spread: bool = typer.Option(False, "--spread", help="Spread the open cases over the active advisors "
                                                        "of their agency, least loaded first"),
    today: str | None = typer.Option(None, "--today", help="Date of the reassignments, YYYY-MM-DD (default: now)"),
) -> None:
    """Deactivate an advisor (kept, with its history; receives no new case).

    With open cases, say where they go: --reassign-to AUTRE or --spread; each case is reassigned
    through the write path, audited on the case (actor system:admin).
    """
    from flows.clock import resolve

    try:
        _, now = resolve(today)
    except ValueError:
        typer.echo(f"erreur : date invalide {today!r} (attendu AAAA-MM-JJ)", err=True)
        raise typer.Exit(1) from None
    try:
        with get_engine().begin() as conn:
            done = admin.deactivate(conn, name_or_id, reassign_to=reassign_to, spread=spread, now=now)
    except admin.OpenCases as exc:
        typer.echo(f"erreur : {exc}.\n"
                   f"  --reassign-to AUTRE : confier les {exc.count} dossiers à un conseiller actif "
                   f"de la même agence ;\n"
                   f"  --spread : les répartir entre les conseillers actifs de l'agence (les moins chargés d'abord).",
                   err=True)
        raise typer.Exit(1) from None
    except admin.AdvisorError as exc:
        typer.echo(f"erreur : {exc}", err=True)
        raise typer.Exit(1) from None
    _show(done.advisor, "désactivé")
    if done.reassigned:
        with get_engine().connect() as conn:
            names = {a.id: a.display_name for a in admin.list_advisors(conn)}
        per: dict[int, list[int]] = {}
        for case_id, advisor_id in done.reassigned:
            per.setdefault(advisor_id, []).append(case_id)
        for advisor_id, case_ids in per.items():
            typer.echo(f"  {len(case_ids)} dossier(s) confié(s) à {names.get(advisor_id, advisor_id)} : "
                       f"{', '.join(map(str, case_ids))}")


@advisors_app.command("activate")
def activate_command(name_or_id: str) -> None:
    """Reactivate an advisor."""
    _show(_run(lambda conn: admin.set_active(conn, name_or_id, True)), "réactivé")
