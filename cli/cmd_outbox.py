"""`m3 outbox` (what the outbox holds) and `m3 send` (deliver what is due: emails, letters)."""
from __future__ import annotations

from datetime import datetime, timezone

import typer
from rich.console import Console
from sqlalchemy import select
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


outbox_app = typer.Typer(help="File d'envoi des notifications : en attente, envoyées, en échec ; réessayer un échec.")
app.add_typer(outbox_app, name="outbox")

_RETRY_REFUSED = {"unknown": "notification {id} inconnue", "not_failed": "la notification {id} n'est pas en échec ({status})"}


@outbox_app.callback(invoke_without_command=True)
def show_outbox(
    ctx: typer.Context,
    status: str | None = typer.Option(None, help="Seulement les notifications de ce statut : " + ", ".join(STATUSES)),
    limit: int = typer.Option(20, help="Le nombre de notifications récentes à lister"),
    requeue_failed: bool = typer.Option(False, "--requeue-failed",
                                        help="Remettre en file les notifications en échec (une fois la cause corrigée)"),
) -> None:
    """Montrer la file d'envoi : le nombre de notifications par statut et par type, puis les plus récentes.

    Chaque notification en échec, annulée ou à réessayer est donnée avec son motif.
    « m3 outbox retry ID » remet une notification en échec dans la file.
    """
    if ctx.invoked_subcommand:
        return
    if status and status not in STATUSES:
        raise typer.BadParameter(f"statut attendu parmi {', '.join(STATUSES)}", param_hint="'--status'")
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
    t = Table(title="File d'envoi — notifications par statut")
    t.add_column("type")
    for s in STATUSES:
        t.add_column(s, justify="right")
    for k in kinds:
        t.add_row(k, *(str(counts.get((s, k), 0)) for s in STATUSES))
    t.add_row("total", *(str(sum(n for (s2, _), n in counts.items() if s2 == s)) for s in STATUSES), style="bold")
    console.print(t)
    r = Table(title=f"Dernières notifications{f' ({status})' if status else ''}")
    for col in ("id", "type", "canal", "dossier", "destinataire", "statut", "essais", "prochain essai", "envoyé le",
                "motif / référence"):
        r.add_column(col)
    for row in rows:
        r.add_row(str(row.id), row.kind, row.channel, str(row.case_id or ""), _shown(row.recipient), row.status,
                  str(row.attempts), _when(row.next_attempt_at) if row.status == "pending" else "",
                  _when(row.sent_at), outbox.describe_error(row.last_error) or row.message_id or "")
    console.print(r)
    for row in rows:  # the reasons again, one line each, never cut by the table's width
        if row.status in ("failed", "cancelled") or (row.status == "pending" and row.last_error):
            what = {"failed": "en échec", "cancelled": "annulée", "pending": "à réessayer"}[row.status]
            case = f" (dossier {row.case_id})" if row.case_id else ""
            console.print(f"notification {row.id}{case} {what} : {outbox.describe_error(row.last_error)}",
                          soft_wrap=True, markup=False, highlight=False)
    failed = sum(n for (s, _), n in counts.items() if s == "failed")
    if failed:
        console.print(f"{failed} notification(s) en échec : corrigez la cause (la fiche du client pour une adresse), "
                      "puis « m3 outbox retry ID » (ou --requeue-failed pour toutes).", soft_wrap=True, markup=False)


def _shown(recipient: str | None) -> str:
    # An address holding a line break or a control character is shown escaped, never interpreted.
    return "" if recipient is None else recipient if recipient.isprintable() else repr(recipient)[1:-1]


@outbox_app.command("retry")
def retry(notification_id: int = typer.Argument(..., metavar="ID", help="Le numéro de la notification en échec")
          ) -> None:
    """Remettre une notification en échec dans la file, avec un nouveau compte d'essais.

    Un message au client part à son adresse actuelle : corrigez d'abord la fiche du client
    (PATCH /cases/{id}/client). Refusé tant que cette adresse reste inutilisable.
    """
    engine = get_engine()
    with engine.begin() as conn:
        reason = outbox.retry(conn, notification_id, datetime.now(timezone.utc))
        row = conn.execute(select(outbox.NOTIFICATION.c.status, outbox.NOTIFICATION.c.case_id)
                           .where(outbox.NOTIFICATION.c.id == notification_id)).first()
    if reason is None:
        typer.echo(f"notification {notification_id} remise en file d'attente : elle partira au prochain envoi (m3 send)")
        return
    if reason.startswith("address: "):
        typer.echo(f"notification {notification_id} non remise en file : l'adresse reste inutilisable "
                   f"({reason.removeprefix('address: ')}). Corrigez d'abord la fiche du client"
                   f"{f' (dossier {row.case_id})' if row and row.case_id else ''}.", err=True)
    else:
        typer.echo(_RETRY_REFUSED[reason].format(id=notification_id, status=row.status if row else ""), err=True)
    raise typer.Exit(code=1)


@app.command("send")
def send(
    today: str | None = typer.Option(None, envvar="M3_TODAY", callback=_check_date,
                                     help="Envoyer à cette date (AAAA-MM-JJ) tout ce qui est dû avant la fin du jour ; "
                                          "par défaut : M3_TODAY (la date simulée), sinon maintenant"),
    limit: int | None = typer.Option(None, help="Au plus ce nombre de notifications"),
) -> None:
    """Envoyer les notifications en attente : les emails par SMTP, les courriers en PDF à imprimer.

    Le déploiement m3-delivery (`m3 worker`) fait le même envoi toutes les quelques minutes.
    """
    from flows.delivery import run_delivery

    settings = get_settings()
    summary, _ = run_delivery(get_engine(), today, limit, settings)
    typer.echo(str(summary))
    if summary.letters:
        typer.echo(f"courriers à imprimer dans {settings.letters_dir.resolve()}")
    if summary.stopped:
        raise typer.Exit(code=2)
