"""`m3 user add|list|revoke|password`: the people who use the API and the pages. A token is printed
once, never stored; a password is stored as an argon2 hash only."""
from __future__ import annotations

from datetime import datetime, timezone

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from cli.main import app
from store.db import get_engine

user_app = typer.Typer(help="Utilisateurs des pages et de l'API : jetons, mots de passe, révocation.",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def add(username: str = typer.Argument(..., metavar="IDENTIFIANT", help="L'identifiant de connexion, par exemple "
                                                                       "marie.dupont"),
        role: str = typer.Option(..., help="Le rôle : advisor (conseiller), manager (responsable), compliance "
                                           "(conformité) ou admin"),
        agency: str | None = typer.Option(None, help="L'agence (corniche, rouviere) ; obligatoire pour advisor et "
                                                     "manager"),
        advisor_id: int | None = typer.Option(None, help="Le numéro du conseiller, pour un utilisateur advisor"),
        advisor_name: str | None = typer.Option(None, help="... ou son nom exact"),
        password: bool = typer.Option(False, "--password", help="Définir aussi un mot de passe pour les pages "
                                                               "(demandé deux fois, sans affichage)"),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Lire ce mot de passe sur l'entrée standard (première ligne)")) -> None:
    """Créer un utilisateur et afficher son jeton, une seule fois : conservez-le.

    Avec --password ou --password-stdin, définit aussi un mot de passe pour les pages.
    Le jeton n'est jamais stocké ; le mot de passe l'est sous forme d'empreinte argon2 seulement.
    """
    from api.auth import UserError, check_password_rules, create_user, set_password
    from api.roles import Role
    from config import get_settings

    try:
        r = Role(role)
    except ValueError:
        raise typer.BadParameter(f"rôle inconnu {role!r} (advisor, manager, compliance, admin)") from None
    secret = _read_password(password, password_stdin) if password or password_stdin else None
    min_length = get_settings().password_min_length
    try:
        if secret is not None:
            check_password_rules(secret, min_length)
        now = datetime.now(timezone.utc)
        with get_engine().begin() as conn:
            _, token = create_user(conn, username, r, agency, now, advisor_id=advisor_id, advisor_name=advisor_name)
            if secret is not None:
                set_password(conn, username, secret, now, min_length)
    except UserError as exc:
        typer.echo(f"erreur : {exc}", err=True)
        raise typer.Exit(1) from None
    extra = " avec mot de passe" if secret is not None else ""
    typer.echo(f"utilisateur {username} créé ({r.value}){extra} ; jeton affiché une seule fois :", err=True)
    typer.echo(token)


def _read_password(prompt: bool, stdin: bool) -> str:
    """The password, from standard input's first line or asked twice without echo."""
    import sys

    if stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    while True:  # typer's own confirmation prints its mismatch error in English: asked twice here
        first = typer.prompt("Mot de passe", hide_input=True)
        if typer.prompt("Mot de passe, à nouveau", hide_input=True) == first:
            return first
        typer.echo("Erreur : les deux saisies ne correspondent pas.", err=True)


@user_app.command("password")
def password(username: str = typer.Argument(..., metavar="IDENTIFIANT", help="L'utilisateur dont le mot de passe "
                                                                            "est défini"),
             password_stdin: bool = typer.Option(False, "--password-stdin",
                                                 help="Lire le mot de passe sur l'entrée standard (première ligne)")
             ) -> None:
    """Définir ou réinitialiser le mot de passe des pages d'un utilisateur ; ses sessions sont fermées.

    Le mot de passe est demandé deux fois, sans affichage (ou lu avec --password-stdin).
    """
    from api.auth import UserError, set_password
    from config import get_settings

    secret = _read_password(not password_stdin, password_stdin)
    try:
        with get_engine().begin() as conn:
            set_password(conn, username, secret, datetime.now(timezone.utc), get_settings().password_min_length)
    except UserError as exc:
        typer.echo(f"erreur : {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"mot de passe de {username} enregistré ; ses sessions ouvertes sont fermées")


@user_app.command("list")
def list_() -> None:
    """Lister les utilisateurs (jamais leurs jetons)."""
    from api.auth import USER

    t = Table(title="Utilisateurs")
    for col in ("id", "utilisateur", "rôle", "agence", "conseiller", "actif", "mot de passe", "créé le"):
        t.add_column(col)
    with get_engine().connect() as conn:
        for u in conn.execute(select(USER).order_by(USER.c.id)):
            t.add_row(str(u.id), u.username, u.role, u.agency_id or "—", str(u.advisor_id or "—"),
                      "oui" if u.active else "non", "oui" if u.password_hash else "non",
                      f"{u.created_at:%Y-%m-%d}" if u.created_at else "")
    Console().print(t)


@user_app.command("revoke")
def revoke(username: str = typer.Argument(..., metavar="IDENTIFIANT", help="L'utilisateur à révoquer")) -> None:
    """Révoquer un utilisateur : son jeton cesse de fonctionner (en moins d'une minute sur un serveur lancé)."""
    from api.auth import revoke as do_revoke

    with get_engine().begin() as conn:
        if not do_revoke(conn, username):
            typer.echo(f"utilisateur inconnu : {username}", err=True)
            raise typer.Exit(1)
    typer.echo(f"utilisateur {username} révoqué")
