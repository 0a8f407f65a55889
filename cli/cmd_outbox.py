"""`m3 outbox` (what the outbox holds) and `m3 send` (deliver what is due: emails, letters)."""
from __future__ import annotations

from datetime import datetime, timezone

import typer
from rich.console import Console
from rich.table import Table

from cli.cmd_flows import _check_date
from cli.main import app
from config import get_settings
from notifications import outbox
from notifications.delivery import STATUSES
from states.calendar import PARIS
from store.db import get_engine


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{value.astimezone(PARIS):%d/%m/%Y %H:%M}"


@app.command("outbox")
def show_outbox(
    status: str | None = typer.Option(None, help="Only rows of this status: " + ", ".join(STATUSES)),
    limit: int = typer.Option(20, help="How many of the latest rows to list"),
    requeue_failed: bool = typer.Option(False, "--requeue-failed",
                                        help="Put failed rows back in the queue (after fixing the cause)"),
) -> None:
    """Show the notification outbox: counts by status and kind, then the latest rows."""
    if status and status not in STATUSES:
        raise typer.BadParameter(f"status: one of {', '.join(STATUSES)}")
    engine = get_engine()
    console = Console()
    if requeue_failed:
        with engine.begin() as conn:
            n = outbox.requeue_failed(conn, datetime.now(timezone.utc))
        console.print(f"{n} notification(s) remise(s) en file d'attente")
    with engine.connect() as conn:
        counts = outbox.counts(conn)
        rows = outbox.latest(conn, status, limit)
    kinds = sorted({k for _, k in counts})
    t = Table(title="Outbox — notifications par statut")
    t.add_column("type")
    for s in STATUSES:
        t.add_column(s, justify="right")
    for k in kinds:
        t.add_row(k, *(str(counts.get((s, k), 0)) for s in STATUSES))
    t.add_row("total", *(str(sum(n for (s2, _), n in counts.items() if s2 == s)) for s in STATUSES), style="bold")
    console.print(t)
    r = Table(title=f"Dernières notifications{f' ({status})' if status else ''}")
    for col in ("id", "type", "canal", "dossier", "destinataire", "statut", "essais", "prochain essai", "envoyé le",
                "erreur / référence"):
        r.add_column(col)
    for row in rows:
        r.add_row(str(row.id), row.kind, row.channel, str(row.case_id or ""), row.recipient or "", row.status,
                  str(row.attempts), _when(row.next_attempt_at) if row.status == "pending" else "",
                  _when(row.sent_at), row.last_error or row.message_id or "")
    console.print(r)


@app.command("send")
def send(
    today: str | None = typer.Option(None, envvar="M3_TODAY", callback=_check_date,
                                     help="Deliver as of this day (YYYY-MM-DD), everything due by its end; "
                                          "default: M3_TODAY (the simulated date), else now"),
    limit: int | None = typer.Option(None, help="At most this many notifications"),
) -> None:
    """Deliver the pending notifications: emails over SMTP, letters as PDFs in the print folder.

    The m3-delivery deployment (`m3 worker`) runs the same delivery every few minutes."""
    from flows.delivery import run_delivery

    settings = get_settings()
    summary, _ = run_delivery(get_engine(), today, limit, settings)
    typer.echo(str(summary))
    if summary.letters:
        typer.echo(f"courriers à imprimer dans {settings.letters_dir.resolve()}")
    if summary.stopped:
        raise typer.Exit(code=2)
