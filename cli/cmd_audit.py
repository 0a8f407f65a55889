"""`m3 audit verify`, `m3 audit export CASE_ID` and `m3 lifecycle`.

`verify` re-walks every case's hash chain against the case row's tip and prints a global digest
over all tips: copy that digest somewhere the database administrator cannot write (a signed
email, a WORM store), because a rewrite of a whole chain together with its case row is only
detected by comparing against such an anchor.
"""
from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.main import app
from states.lifecycle import mermaid
from store import audit
from store.db import get_engine
from store.snapshot import case_row

audit_app = typer.Typer(help="Journal d'audit : vérifier les chaînes d'empreintes, exporter le journal d'un dossier.",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """Vérifier le journal d'audit de chaque dossier ; code de sortie 1 en cas d'atteinte.

    Une atteinte : un enregistrement modifié, supprimé ou déplacé.
    Conservez ailleurs l'empreinte globale affichée (email signé, stockage non modifiable) :
    seule la comparaison avec elle révèle la réécriture d'une chaîne entière avec son dossier.
    """
    engine = get_engine()
    with engine.connect() as conn:
        n_cases, n_records, breaches, digest = audit.verify_all(conn)
    typer.echo(f"dossiers vérifiés : {n_cases}")
    typer.echo(f"enregistrements vérifiés : {n_records}")
    for b in breaches:
        where = f"enregistrement {b.seq}" if b.seq is not None else "fin de chaîne"
        typer.echo(f"ATTEINTE dossier {b.case_id}, {where} : {b.problem}", err=True)
    typer.echo(f"empreinte globale (à conserver ailleurs) : {digest}")
    if breaches:
        typer.echo(f"{len(breaches)} atteinte(s) à l'intégrité du journal d'audit", err=True)
        raise typer.Exit(1)
    typer.echo("journal d'audit intègre")


@audit_app.command("export")
def export(
    case_id: int = typer.Argument(..., metavar="DOSSIER", help="Le numéro du dossier"),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Le répertoire où écrire les deux fichiers"),
) -> None:
    """Exporter le journal d'audit d'un dossier : case-<n°>-audit.json et case-<n°>-audit.csv.

    Le CSV a une ligne par champ modifié.
    """
    engine = get_engine()
    with engine.connect() as conn:
        row = case_row(conn, case_id)
        if row is None:
            typer.echo(f"dossier {case_id} inconnu : rien à exporter", err=True)
            raise typer.Exit(1)
        records = audit.trail(conn, case_id)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"case_id": case_id, "audit_seq": row.audit_seq, "audit_head": row.audit_head, "records": records}
    json_path = out / f"case-{case_id}-audit.json"
    csv_path = out / f"case-{case_id}-audit.csv"
    json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    csv_path.write_text(audit.trail_csv(records), encoding="utf-8", newline="")
    typer.echo(f"{len(records)} enregistrement(s) exporté(s) : {json_path} et {csv_path}")


@audit_app.command("redact")
def redact(
    case_id: int = typer.Argument(..., metavar="DOSSIER", help="Le numéro du dossier"),
    seq: int = typer.Argument(..., metavar="ENREGISTREMENT", help="Le numéro de l'enregistrement d'audit à effacer"),
    reason: str = typer.Option(..., "--reason", help="Le motif : demande d'effacement RGPD, durée de conservation "
                                                     "écoulée"),
    actor: str = typer.Option("system:admin", "--actor", help="Qui le demande (consigné dans le journal)"),
) -> None:
    """Effacer le contenu d'un enregistrement d'audit (RGPD, conservation) ; la chaîne reste vérifiable.

    L'effacement est lui-même consigné dans le journal du dossier.
    """
    from datetime import datetime, timezone

    from states.commands import RedactAuditRecord
    from states.errors import DomainError
    from store.write_path import execute

    engine = get_engine()
    with engine.connect() as conn:
        row = case_row(conn, case_id)
    if row is None:
        typer.echo(f"dossier {case_id} inconnu", err=True)
        raise typer.Exit(1)
    try:
        result = execute(engine, case_id, row.version, RedactAuditRecord(seq, reason), actor,
                         datetime.now(timezone.utc))
    except DomainError as exc:
        typer.echo(f"effacement refusé : {exc}", err=True)
        raise typer.Exit(1)
    typer.echo(f"dossier {case_id} : enregistrement {seq} effacé ; effacement consigné (enregistrement "
               f"{result.audit_seq})")


@app.command("lifecycle")
def lifecycle() -> None:
    """Afficher le cycle de vie d'un dossier en diagramme d'états Mermaid (tiré de la table des transitions)."""
    typer.echo(mermaid(), nl=False)
