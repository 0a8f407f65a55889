"""`m3 demo-data`: write a realistic synthetic contract book in the CRM export format."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer

from cli.main import app
from store.demo_book import write_demo_book


@app.command("demo-data")
def demo_data(
    out: Path = typer.Option(Path("var/demo_book.csv"), "--out", help="Where to write the CSV"),
    contracts: int = typer.Option(3000, "--contracts", min=1, help="Number of contract rows"),
    seed: int = typer.Option(42, "--seed", help="Same seed, same file"),
    today: str | None = typer.Option(None, "--today", help="YYYY-MM-DD; effective dates span the 24 months before"),
    encoding: str = typer.Option("utf-8", "--encoding", help="utf-8 or cp1252"),
    delimiter: str = typer.Option(";", "--delimiter", help="';' or ','"),
    iso_dates: bool = typer.Option(False, "--iso-dates", help="2026-01-15 instead of 15/01/2026"),
) -> None:
    """Write a synthetic book: both agencies, ~10 advisors, every kind and family, some CRM defects.

    Document statuses are not in the CRM export: after import every document is missing.
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
