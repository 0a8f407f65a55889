"""`m3 advisors list|add|move|deactivate|activate`: the agencies' advisors (chargés de clientèle)."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cli.main import app
from store import advisor_admin as admin
from store.db import get_engine

advisors_app = typer.Typer(help="Conseillers : lister, ajouter, changer d'agence, désactiver.", no_args_is_help=True)
app.add_typer(advisors_app, name="advisors")


NAME_OR_ID = typer.Argument(..., metavar="CONSEILLER", help="Le conseiller : son nom ou son numéro")


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
def list_command(agency: str | None = typer.Option(None, "--agency", help="Seulement cette agence : Corniche ou Rouvière")
                 ) -> None:
    """Lister les conseillers, avec leur agence, leur état et leur nombre de clients."""
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
def add_command(name: str = typer.Argument(..., metavar="NOM", help="Le nom tel que l'export du CRM l'écrit"),
                agency: str = typer.Option(..., "--agency", help="L'agence : Corniche ou Rouvière"),
                email: str | None = typer.Option(None, "--email", help="L'adresse des récapitulatifs et des rappels"),
                first_name: str | None = typer.Option(None, "--first-name", help="Par défaut : tiré de NOM"),
                last_name: str | None = typer.Option(None, "--last-name", help="Par défaut : tiré de NOM"),
                title: str | None = typer.Option(None, "--title", help='Par exemple « Chargée de clientèle »')) -> None:
    """Ajouter un conseiller actif à une agence.

    NOM s'écrit comme dans l'export du CRM : l'import reconnaît le conseiller à ce nom.
    """
    _show(_run(lambda conn: admin.add(conn, name, agency, email, first_name=first_name, last_name=last_name,
                                      title=title)), "ajouté")


@advisors_app.command("name")
def name_command(name_or_id: str = NAME_OR_ID,
                 first_name: str | None = typer.Option(None, "--first-name", help="Vide : aucun"),
                 last_name: str = typer.Option(..., "--last-name", help="Le nom de famille")) -> None:
    """Corriger le prénom et le nom imprimés sur les courriers.

    Par exemple un prénom composé que l'import a mal coupé.
    L'orthographe du CRM, à laquelle l'import reconnaît le conseiller, est conservée.
    """
    _show(_run(lambda conn: admin.set_names(conn, name_or_id, first_name, last_name)), "mis à jour")


@advisors_app.command("title")
def title_command(name_or_id: str = NAME_OR_ID,
                  title: str = typer.Argument(..., metavar="TITRE",
                                              help='Par exemple « Chargée de clientèle » ; "" : aucun')) -> None:
    """Définir le titre imprimé sous le nom du conseiller (emails, courriers, script d'appel)."""
    _show(_run(lambda conn: admin.set_title(conn, name_or_id, title)), "mis à jour")


@advisors_app.command("move")
def move_command(name_or_id: str = NAME_OR_ID,
                 agency: str = typer.Option(..., "--agency", help="La nouvelle agence : Corniche ou Rouvière")) -> None:
    """Faire passer un conseiller dans une autre agence."""
    _show(_run(lambda conn: admin.move(conn, name_or_id, agency)), "déplacé")


@advisors_app.command("email")
def email_command(name_or_id: str = NAME_OR_ID,
                  address: str = typer.Argument(..., metavar="ADRESSE", help="L'adresse email")) -> None:
    """Définir l'adresse où partent les récapitulatifs et les rappels du conseiller."""
    _show(_run(lambda conn: admin.set_email(conn, name_or_id, address)), "mis à jour")


@advisors_app.command("deactivate")
def deactivate_command(
    name_or_id: str = NAME_OR_ID,
    reassign_to: str | None = typer.Option(None, "--reassign-to", metavar="AUTRE",
                                           help="Le conseiller (nom ou numéro) qui reprend les dossiers en cours"),
    spread: bool = typer.Option(False, "--spread", help="Répartir les dossiers en cours entre les conseillers actifs "
                                                        "de l'agence, les moins chargés d'abord"),
    today: str | None = typer.Option(None, "--today", help="Date des réattributions, AAAA-MM-JJ (par défaut : "
                                                           "maintenant)"),
) -> None:
    """Désactiver un conseiller : il est conservé avec son historique, mais ne reçoit plus de dossier.

    S'il a des dossiers en cours, dites à qui les confier : --reassign-to AUTRE ou --spread.
    Chaque dossier est réattribué et la réattribution est tracée dans son journal d'audit (system:admin).
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
def activate_command(name_or_id: str = NAME_OR_ID) -> None:
    """Réactiver un conseiller."""
    _show(_run(lambda conn: admin.set_active(conn, name_or_id, True)), "réactivé")
