"""`m3 import FILE.csv`: load the CRM contract export (see docs/import.md).

Exit 2 only when the file itself cannot be read (missing, empty, wrong header); rejected rows
are reported (console, capped, and every one in FILE.rejets.csv) and the exit code stays 0.
Exit 1 when the database stops the import (the batches written stay; a rerun completes them).

Personal data: the console shows a rejection's line, column and reason, never the row; the
rejects file is the one place that keeps the rejected rows, for the person who fixes them.
"""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from cli.main import app
from store.csv_source import COLUMNS, OPTIONAL_COLUMNS, SourceError
from store.db import get_engine
from states.corrections import LABELS, Resolution
from store.importer import ImportInterrupted, ImportSummary, Rejection, import_file

CONSOLE_REJECTIONS = 50


class _Rejects:
    """Prints the first rejections and writes them all to a CSV, as they come (not kept).

    The CSV: `ligne;colonne;motif`, then the row as the file held it (its fields, each cut to
    1,000 characters; a row the reader could not split: its first line), under the export's
    column names, so the rows can be corrected there and imported again without those three.
    """

    def __init__(self, path: Path):
        self.path, self.count, self._fh, self._writer = path, 0, None, None

    def __call__(self, r: Rejection) -> None:
        self.count += 1
        if self.count <= CONSOLE_REJECTIONS:
            typer.echo(f"ligne {r.line}, colonne {r.column} : {r.reason}", err=True)
        elif self.count == CONSOLE_REJECTIONS + 1:
            typer.echo(f"… (les suivantes sont dans {self.path})", err=True)
        if self._writer is None:  # created on the first rejection only
            # backslashreplace: a value no encoding can write (a lone surrogate) shows as \udcff
            self._fh = self.path.open("w", encoding="utf-8", errors="backslashreplace", newline="")
            self._writer = csv.writer(self._fh, delimiter=";")
            self._writer.writerow(["ligne", "colonne", "motif", *COLUMNS, *OPTIONAL_COLUMNS])
        self._writer.writerow([r.line, r.column, r.reason, *r.content])

    def close(self) -> None:
        if self._fh:
            self._fh.close()


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., metavar="FICHIER",
                                help="L'export du CRM (CSV, UTF-8 ou Windows-1252, séparateur ',' ou ';')"),
    rejects: Path | None = typer.Option(None, "--rejects", help="Où écrire les lignes rejetées "
                                        "(par défaut : FICHIER.rejets.csv, à côté du fichier)"),
    today: str | None = typer.Option(None, "--today", help="Date des enregistrements d'audit écrits sur les dossiers "
                                                           "en cours, AAAA-MM-JJ (par défaut : maintenant)"),
) -> None:
    """Importer l'export des contrats du CRM : clients et contrats créés ou mis à jour, lignes rejetées listées.

    Les conflits avec les corrections faites dans Suivi M+3 sont listés.
    Les changements d'un client qui a un dossier en cours sont tracés dans son journal d'audit (system:import).
    Code de sortie 2 si le fichier est illisible, 1 si la base de données interrompt l'import.
    """
    from flows.clock import resolve

    try:
        _, now = resolve(today)
    except ValueError:
        typer.echo(f"date invalide : {today!r} (attendu AAAA-MM-JJ)", err=True)
        raise typer.Exit(2) from None
    rejects_path = rejects or file.with_name(file.stem + ".rejets.csv")
    on_reject = _Rejects(rejects_path)
    engine = get_engine()
    start = time.perf_counter()
    try:
        if sys.stdout.isatty():
            summary = _with_progress(engine, file, on_reject, now)
        else:
            summary = import_file(engine, file, on_reject=on_reject, now=now)
    except SourceError as exc:
        typer.echo(f"import impossible : {exc}", err=True)
        raise typer.Exit(2) from None
    except ImportInterrupted as exc:
        typer.echo(f"import interrompu : {exc}", err=True)
        raise typer.Exit(1) from None
    except Exception as exc:
        from store.unreachable import is_unreachable

        if not is_unreachable(exc):
            raise
        typer.echo("import interrompu : base de données injoignable ; les lots déjà écrits sont conservés, "
                   "relancer l'import complète le reste", err=True)
        raise typer.Exit(1) from None
    finally:
        on_reject.close()
    if on_reject.count == 0 and rejects_path.exists():
        rejects_path.unlink()  # a previous run's rejections no longer apply
    _report(summary, time.perf_counter() - start, rejects_path)


def _with_progress(engine, file: Path, on_reject, now) -> ImportSummary:
    columns = (TextColumn("import"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rows]} lignes"),
               TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("import", total=file.stat().st_size if file.exists() else None, rows=0)

        def on_progress(done: int, rows: int) -> None:
            progress.update(task, completed=done, rows=f"{rows:,}".replace(",", " "))

        return import_file(engine, file, on_reject=on_reject, on_progress=on_progress, now=now)


def _report(s: ImportSummary, seconds: float, rejects_path: Path) -> None:
    for name, agency in s.advisors_created:
        typer.echo(f"conseiller créé : {name} (agence {agency})")
    rate = f"{s.read / seconds if seconds > 0 else 0.0:,.0f}".replace(",", " ")
    typer.echo(f"lues {s.read} · importées {s.imported} · mises à jour {s.updated} · "
               f"inchangées {s.unchanged} · rejetées {s.rejected}")
    typer.echo(f"clients : {s.clients_created} créés, {s.clients_updated} mis à jour · "
               f"{seconds:.1f} s, {rate} lignes/s")
    if s.rejected:
        typer.echo(f"lignes rejetées : {rejects_path}")
    _report_corrections(s)


def _report_corrections(s: ImportSummary) -> None:
    """Conflicts with corrections made in Suivi M+3, and what the import did to open cases."""
    if s.conflicts:
        typer.echo(f"conflits avec des corrections : {len(s.conflicts)}")
        for c in s.conflicts[:CONSOLE_REJECTIONS]:
            label = LABELS.get(c.field, c.field)
            case = f" (dossier {c.case_id})" if c.case_id else ""
            if c.kind == Resolution.STANDING:
                typer.echo(f"  client {c.client_id}, {label} : correction maintenue{case}, "
                           f"le CRM envoie toujours l'ancienne valeur ({c.crm_value or 'vide'})")
            else:
                typer.echo(f"  client {c.client_id}, {label} : valeur du CRM retenue ({c.crm_value or 'vide'}), "
                           f"la correction ({c.corrected_value or 'vide'}){case} est remplacée")
        if len(s.conflicts) > CONSOLE_REJECTIONS:
            typer.echo(f"  … et {len(s.conflicts) - CONSOLE_REJECTIONS} autres")
    if s.cases_audited:
        typer.echo(f"dossiers en cours dont le client a changé : {s.cases_audited} (changements tracés, system:import)")
    for m in s.cases_moved:
        typer.echo(f"  dossier {m.case_id} : agence {m.from_agency} → {m.to_agency}, "
                   f"{'conseiller n° ' + str(m.advisor_id) if m.advisor_id else 'sans conseiller actif'}")
