"""`m3 demo-data`: write a realistic synthetic contract book in the CRM export format."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer

from cli.main import app
from store.demo_book import write_demo_book


@app.command("demo-data")
def demo_data(
    out: Path = typer.Option(Path("var/demo_book.csv"), "--out", help="Le fichier CSV à écrire"),
    contracts: int = typer.Option(3000, "--contracts", min=1, help="Le nombre de lignes de contrats"),
    seed: int = typer.Option(42, "--seed", help="Même graine, même fichier"),
    today: str | None = typer.Option(None, "--today", help="AAAA-MM-JJ ; les dates d'effet couvrent les 24 mois "
                                                           "précédents"),
    encoding: str = typer.Option("utf-8", "--encoding", help="utf-8 ou cp1252"),
    delimiter: str = typer.Option(";", "--delimiter", help="';' ou ','"),
    iso_dates: bool = typer.Option(False, "--iso-dates", help="2026-01-15 au lieu de 15/01/2026"),
) -> None:
    """Écrire un portefeuille fictif au format de l'export du CRM, pour la démonstration et les essais.

    Les deux agences, une dizaine de conseillers, tous les types de clients et de contrats, quelques défauts du CRM.
    L'export du CRM ne contient pas l'état des pièces : après l'import, toutes les pièces manquent.
    """
    if encoding.lower().replace("-", "") not in ("utf8", "cp1252", "windows1252"):
        raise typer.BadParameter("utf-8 ou cp1252", param_hint="--encoding")
    if delimiter not in (";", ","):
        raise typer.BadParameter("';' ou ','", param_hint="--delimiter")
    try:
        day = datetime.strptime(today, "%Y-%m-%d").date() if today else date.today()
    except ValueError:
        raise typer.BadParameter("AAAA-MM-JJ", param_hint="--today") from None
    stats = write_demo_book(out, contracts=contracts, seed=seed, today=day, encoding=encoding,
                            delimiter=delimiter, date_style="iso" if iso_dates else "fr")
    typer.echo(f"{stats.rows} contrats de {stats.clients} clients écrits dans {out}")
