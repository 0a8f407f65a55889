"""`m3 db upgrade` and `m3 status`: the schema and what the database holds."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from cli.main import app
from config import get_settings
from store.db import get_engine
from store.tables import Advisor, Agency, AuditRecord, Client, Contract, FollowupCase

db_app = typer.Typer(help="Schéma de la base de données.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade() -> None:
    """Créer le schéma de la base, ou le migrer vers la dernière version."""
    get_engine(migrate=True)
    typer.echo(f"schéma à jour ({_where()})")


def _where() -> str:
    url = get_settings().resolved_database_url
    return url.split("@")[-1] if "@" in url else url


@app.command("status")
def status() -> None:
    """Montrer le contenu de la base : agences, conseillers, clients, contrats, dossiers par état."""
    engine = get_engine()
    console = Console()
    with engine.connect() as conn:
        def count(table):
            return conn.execute(select(func.count()).select_from(table.__table__)).scalar_one()

        t = Table(title=f"Suivi M+3 — {_where()}")
        t.add_column("agence")
        t.add_column("conseillers actifs", justify="right")
        t.add_column("clients", justify="right")
        t.add_column("contrats actifs", justify="right")
        for ag in conn.execute(select(Agency.__table__)).all():
            adv = conn.execute(select(func.count()).where(Advisor.agency_id == ag.id, Advisor.active)).scalar_one()
            cl = conn.execute(select(func.count()).where(Client.agency_id == ag.id)).scalar_one()
            ct = conn.execute(select(func.count()).select_from(Contract.__table__).join(
                Client.__table__, Client.id == Contract.client_id).where(
                Client.agency_id == ag.id, Contract.status == "active")).scalar_one()
            t.add_row(ag.name, str(adv), str(cl), str(ct))
        console.print(t)
        fam = Table(title="Contrats par famille")
        fam.add_column("famille")
        fam.add_column("actifs", justify="right")
        fam.add_column("résiliés", justify="right")
        rows = conn.execute(select(Contract.family, Contract.status, func.count()).group_by(
            Contract.family, Contract.status)).all()
        by = {}
        for f, s, n in rows:
            by.setdefault(f, {})[s] = n
        for f in sorted(by):
            fam.add_row(f, str(by[f].get("active", 0)), str(by[f].get("cancelled", 0)))
        console.print(fam)
        states = conn.execute(select(FollowupCase.state, func.count()).group_by(FollowupCase.state)).all()
        st = Table(title="Dossiers M+3 par état")
        st.add_column("état")
        st.add_column("dossiers", justify="right")
        for s, n in sorted(states):
            st.add_row(s, str(n))
        console.print(st)
        console.print(f"clients {count(Client)} · contrats {count(Contract)} · dossiers {count(FollowupCase)} · "
                      f"enregistrements d'audit {count(AuditRecord)}")
