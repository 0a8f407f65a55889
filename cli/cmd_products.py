"""`m3 products unknown|match`: which documents the book's product names ask for (states/data/products.toml)."""
from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from cli.main import app

products_app = typer.Typer(help="Produits : les noms que les règles de pièces ne reconnaissent pas, et comment un nom est lu.",
                           no_args_is_help=True)
app.add_typer(products_app, name="products")


@products_app.command("unknown")
def unknown(as_json: bool = typer.Option(False, "--json", help="Afficher la liste en JSON sur la sortie standard")) -> None:
    """Lister les produits des contrats actifs que states/data/products.toml ne reconnaît pas.

    Un « produit non reconnu » ne demande que les pièces du client, tant qu'il n'est pas rattaché à un risque.
    """
    from store.db import get_engine
    from store.products import unknown_products

    with get_engine().connect() as conn:
        rows = unknown_products(conn)
    if as_json:
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
        return
    if not rows:
        typer.echo("Tous les produits des contrats actifs sont reconnus.")
        return
    table = Table(title="Produits non reconnus : à ajouter dans states/data/products.toml")
    for col in ("produit", "familles", "contrats actifs", "dossiers ouverts"):
        table.add_column(col, justify="right" if col in ("contrats actifs", "dossiers ouverts") else "left")
    for r in rows:
        table.add_row(r.product, ", ".join(r.families), str(r.contracts), str(r.open_cases))
    Console(width=120).print(table)
    typer.echo(f"{len(rows)} produit(s) non reconnu(s), {sum(r.contracts for r in rows)} contrat(s) actif(s) : "
               "ils ne demandent que les pièces du client (CNI, Kbis) tant qu'ils ne sont pas rattachés à un risque.")


@products_app.command("match")
def match(product: str = typer.Argument(..., metavar="PRODUIT", help="Un nom de produit, tel que le CRM l'écrit")
          ) -> None:
    """Montrer comment un nom de produit est lu : les noms de products.toml reconnus, ses risques et ses pièces."""
    from states import requirements

    m = requirements.product_match(product)
    if not m.known:
        typer.echo(f"« {product} » : {requirements.UNKNOWN_PRODUCT} (pièces du client seulement)")
        return
    risks = ", ".join(requirements.risk_label(r) for r in m.risks) or "aucun risque propre"
    typer.echo(f"« {product} » : reconnu ({', '.join(m.names)}) ; risques : {risks}")
    docs = [d for r in requirements.rules()["risk"] if r["code"] in m.risks for d in r["documents"]]
    if docs:
        typer.echo("pièces du risque : " + ", ".join(requirements.label(d) for d in dict.fromkeys(docs)))


@products_app.command("recount")
def recount() -> None:
    """Recompter les pièces demandées et reçues de chaque dossier, après une modification des règles.

    À lancer après avoir modifié states/data/requirements.toml ou products.toml : les statistiques
    (complétude des pièces) lisent ces comptes, tenus sur chaque dossier (store/completeness.py).
    """
    from store import completeness
    from store.db import get_engine

    with get_engine().begin() as conn:
        n = completeness.refresh_all(conn)
    typer.echo(f"{n} dossier(s) recompté(s).")
