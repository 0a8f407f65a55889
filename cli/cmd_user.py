"""`m3 user add|list|revoke`: the people who use the API. A token is printed once, never stored."""
from __future__ import annotations

from datetime import datetime, timezone

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from cli.main import app
from store.db import get_engine

user_app = typer.Typer(help="API users and their tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def add(username: str = typer.Argument(..., help="Login name, e.g. marie.dupont"),
        role: str = typer.Option(..., help="advisor, manager, compliance or admin"),
        agency: str | None = typer.Option(None, help="Agency id (corniche, rouviere); required for advisor/manager"),
        advisor_id: int | None = typer.Option(None, help="The Advisor row of an advisor user"),
        advisor_name: str | None = typer.Option(None, help="...or its exact name")) -> None:
    """Create a user and print its token (shown once: keep it)."""
    from api.auth import UserError, create_user
    from api.roles import Role

    try:
        r = Role(role)
    except ValueError:
        raise typer.BadParameter(f"rôle inconnu {role!r} (advisor, manager, compliance, admin)") from None
    try:
        with get_engine().begin() as conn:
            _, token = create_user(conn, username, r, agency, datetime.now(timezone.utc),
                                   advisor_id=advisor_id, advisor_name=advisor_name)
    except UserError as exc:
        typer.echo(f"erreur : {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"utilisateur {username} créé ({r.value}) ; jeton affiché une seule fois :", err=True)
    typer.echo(token)


@user_app.command("list")
def list_() -> None:
    """List users (never their tokens)."""
    from api.auth import USER

    t = Table(title="Utilisateurs")
    for col in ("id", "utilisateur", "rôle", "agence", "conseiller", "actif", "créé le"):
        t.add_column(col)
    with get_engine().connect() as conn:
        for u in conn.execute(select(USER).order_by(USER.c.id)):
            t.add_row(str(u.id), u.username, u.role, u.agency_id or "—", str(u.advisor_id or "—"),
                      "oui" if u.active else "non", f"{u.created_at:%Y-%m-%d}" if u.created_at else "")
    Console().print(t)


@user_app.command("revoke")
def revoke(username: str) -> None:
    """Deactivate a user: their token stops working (within a minute in a running server)."""
    from api.auth import revoke as do_revoke

    with get_engine().begin() as conn:
        if not do_revoke(conn, username):
            typer.echo(f"utilisateur inconnu : {username}", err=True)
            raise typer.Exit(1)
    typer.echo(f"utilisateur {username} révoqué")
