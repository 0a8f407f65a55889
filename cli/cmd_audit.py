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

audit_app = typer.Typer(help="The audit trail: verify the hash chains, export a case's trail.",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """Check every case's audit chain; exit 1 when any record was edited, deleted or reordered."""
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
    case_id: int = typer.Argument(..., help="The case (dossier) id"),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder to write the two files into"),
) -> None:
    """Write case-<id>-audit.json and case-<id>-audit.csv (one CSV row per changed field)."""
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
    case_id: int = typer.Argument(..., help="The case (dossier) id"),
    seq: int = typer.Argument(..., help="The number of the audit record to blank"),
    reason: str = typer.Option(..., "--reason", help="Why: an RGPD erasure request, retention period over"),
    actor: str = typer.Option("system:admin", "--actor", help="Who asks (recorded in the trail)"),
) -> None:
    """Blank one audit record's content (RGPD erasure, retention), audited; the chain stays verifiable."""
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
    """Print the lifecycle as a Mermaid state diagram (generated from the transition table)."""
    typer.echo(mermaid(), nl=False)
