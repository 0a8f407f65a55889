"""The transactional outbox: enqueue a message in the same transaction as the change causing it.

Kinds and what they carry (`payload`); case-based kinds are rendered from the case at send time:
- client_email       case_id; the "mise à jour du dossier" email after failed calls
- client_letter      case_id; the postal letter (PDF) after the email
- documents_request  case_id; payload {"missing": [{"contract_id", "product", "label"}]}
- advisor_digest     payload {"advisor_name", "as_of", "cases": [case summary]}
- manager_digest     payload {"agency_name", "as_of", "week", "by_advisor": [{"advisor_name", "overdue"}],
                              "cases": [case summary]}
- action_reminder    payload {"owner_name", "as_of", "actions": [{"case_id", "client_name", "kind", "label",
                              "due_date"}]}
case summary = {"case_id", "client_name", "due_date", "window_end", "state", "priority", "late"}

`dedupe_key` is unique: enqueueing the same key twice (a re-run flow) adds nothing.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.tables import Notification

NOTIFICATION = Notification.__table__
KINDS = ("client_email", "client_letter", "documents_request", "advisor_digest", "manager_digest",
         "action_reminder")
# Queued by the write path (states/appointments.py): case_id; payload {"appointment_id", "at", "channel",
# "advisor_id", "update", "previous_at"}. Service messages: sent even to a client opposed to email.
KINDS = KINDS + ("appointment_confirmation", "appointment_cancellation")
# Queued by the write path (states/bilan.py SendBilan): case_id; payload {"bilan_seq", "to"}; the
# frozen record's PDF attached. A service message.
KINDS = KINDS + ("bilan_email",)


def enqueue(conn: Connection, *, kind: str, channel: str, dedupe_key: str, now: datetime,
            recipient: str | None = None, case_id: int | None = None, payload: dict[str, Any] | None = None) -> bool:
    """Add a pending notification; False when one with the same dedupe_key already exists."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(NOTIFICATION)
    stmt = ins.values(
        dedupe_key=dedupe_key, kind=kind, channel=channel, case_id=case_id, recipient=recipient,
        payload=payload or {}, status="pending", attempts=0, created_at=now, next_attempt_at=now,
    ).on_conflict_do_nothing(index_elements=[NOTIFICATION.c.dedupe_key]).returning(NOTIFICATION.c.id)
    # RETURNING, not rowcount: on PostgreSQL (psycopg 3) an INSERT ... ON CONFLICT reports rowcount -1.
    return conn.execute(stmt).first() is not None


# ---------------------------------------------------------------- reading the outbox (m3 outbox)
# Statuses: pending (due at next_attempt_at), sending (claimed by a sender, until its lease
# expires), sent, failed (given up; `requeue_failed` puts it back), cancelled (not to be sent:
# the client opposed the channel, or there is no address; the reason is in last_error).

def counts(conn: Connection) -> dict[tuple[str, str], int]:
    """{(status, kind): number of rows}."""
    from sqlalchemy import func, select

    rows = conn.execute(select(NOTIFICATION.c.status, NOTIFICATION.c.kind, func.count())
                        .group_by(NOTIFICATION.c.status, NOTIFICATION.c.kind)).all()
    return {(s, k): n for s, k, n in rows}


def latest(conn: Connection, status: str | None = None, limit: int = 20) -> list[Any]:
    """The newest rows, optionally of one status."""
    from sqlalchemy import select

    q = select(NOTIFICATION).order_by(NOTIFICATION.c.id.desc()).limit(limit)
    if status:
        q = q.where(NOTIFICATION.c.status == status)
    return list(conn.execute(q).all())


def requeue_failed(conn: Connection, now: datetime) -> int:
    """Put failed rows back in the queue with a fresh attempt count (after fixing the cause)."""
    from sqlalchemy import select

    rows = conn.execute(select(NOTIFICATION).where(NOTIFICATION.c.status == "failed")).all()
    for row in rows:
        _requeue(conn, row, now)
    return len(rows)


def retry(conn: Connection, notification_id: int, now: datetime) -> str | None:
    """Put one failed row back in the queue (`m3 outbox retry ID`), with a fresh attempt count.
    None when done; otherwise why not, as a code: `unknown`, `not_failed`, or `address: <reason>`
    when the address it would go to still cannot be used (the client record is to correct first)."""
    from sqlalchemy import select

    from states.validators import sendable_email_address
    from store.tables import Client, FollowupCase

    row = conn.execute(select(NOTIFICATION).where(NOTIFICATION.c.id == notification_id)).first()
    if row is None:
        return "unknown"
    if row.status != "failed":
        return "not_failed"
    if row.channel == "email":
        to = None if _from_client(row) else row.recipient
        if to is None and row.case_id is not None:
            case, client = FollowupCase.__table__, Client.__table__
            to = conn.execute(select(client.c.email).select_from(case.join(client, client.c.id == case.c.client_id))
                              .where(case.c.id == row.case_id)).scalar()
        if to is not None or row.kind != "manager_digest":  # a manager digest's address is in the settings
            _, reason = sendable_email_address(to)
            if reason:
                return f"address: {reason}"
    _requeue(conn, row, now)
    return None


def _from_client(row) -> bool:
    """A client message whose address was the client's (not one chosen in its payload's `to`)."""
    from notifications.context import CLIENT_KINDS

    return row.case_id is not None and row.kind in CLIENT_KINDS and not (row.payload or {}).get("to")


def _requeue(conn: Connection, row, now: datetime) -> None:
    """Pending again, fresh count. A client message forgets the address it was queued with, so
    the sender reads the client's current one: the corrected address."""
    from sqlalchemy import update

    values: dict[str, Any] = {"status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None}
    if _from_client(row):
        values["recipient"] = None
    conn.execute(update(NOTIFICATION).where(NOTIFICATION.c.id == row.id, NOTIFICATION.c.status == "failed")
                 .values(values))


# ---------------------------------------------------------------- reasons, in French (m3 outbox)
# `last_error` holds codes (English, stable, no personal data): the exception's type and the SMTP
# code, never the server's text or an address. `describe_error` says them in French for people.
_SIMPLE = {
    "opposition_email": "le client s'est opposé aux emails",
    "opposition_letter": "le client s'est opposé aux courriers",
    "no_recipient": "aucune adresse email",
    "invalid_recipient": ("adresse email inutilisable (saut de ligne, caractère interdit ou adresse invalide) : "
                          "à corriger sur la fiche du client, puis m3 outbox retry"),
    "interrupted": "envoi interrompu : l'expéditeur s'est arrêté avant d'en enregistrer le résultat",
    "unknown": "raison inconnue",
}
_UNREACHABLE = ("ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError", "TimeoutError", "timeout",
                "SMTPServerDisconnected", "SMTPConnectError", "SMTPHeloError", "OSError", "gaierror",
                "BrokenPipeError", "SSLError")
_MISSING = {"case": "dossier", "client": "client", "bilan": "bilan"}


def _refused(code: str, what: str) -> str:
    return f"{what} {'temporairement ' if code.startswith('4') else ''}par le serveur d'envoi (code {code}"


_PATTERNS: tuple[tuple[str, Any], ...] = (
    (r"max_attempts after (.+)", lambda m: "abandonné après le nombre maximal d'essais (M3_OUTBOX_MAX_ATTEMPTS) ; "
                                           f"dernière erreur : {describe_error(m[1])}"),
    (r"smtp ([\d,]+) recipient refused", lambda m: _refused(m[1], "destinataire refusé") + ")"),
    (r"smtp (\d+) SMTPAuthenticationError", lambda m: f"connexion au serveur d'envoi refusée (code {m[1]} : "
                                                      "vérifiez M3_SMTP_USER et M3_SMTP_PASSWORD)"),
    (r"smtp (\d+) (\w+)", lambda m: _refused(m[1], "refusé") + f", {m[2]})"),
    (r"render: (\w+)", lambda m: f"message impossible à composer ({m[1]})"),
    (r"build: (\w+)", lambda m: f"message impossible à construire ({m[1]} : un en-tête contient un saut de ligne "
                                "ou un caractère interdit, ou un texte n'a pas pu être encodé)"),
    (r"send: (\w+)", lambda m: f"message impossible à envoyer ({m[1]})"),
    (r"letter: (\w+)", lambda m: f"courrier impossible à écrire dans le dossier d'impression ({m[1]})"),
    (r"missing (\w+)", lambda m: f"données introuvables ({_MISSING.get(m[1], m[1])})"),
    (r"unexpected: (\w+)", lambda m: f"erreur inattendue ({m[1]})"),
    (r"SMTPNotSupportedError", lambda m: "adresse non prise en charge par le serveur d'envoi (caractères accentués)"),
    (r"(" + "|".join(_UNREACHABLE) + r")", lambda m: f"serveur d'envoi injoignable ({m[1]})"),
)


def describe_error(code: str | None) -> str:
    """`last_error` in French, for `m3 outbox` (docs/notifications.md lists the codes)."""
    import re

    if not code:
        return ""
    if code in _SIMPLE:
        return _SIMPLE[code]
    for pattern, say in _PATTERNS:
        m = re.fullmatch(pattern, code)
        if m:
            return say(m)
    return code
