"""SMTP delivery: one connection reused for a whole batch, a stable Message-ID per notification.

The Message-ID is derived from the notification (its id and a hash of its dedupe_key), never
random: if the process dies after the server accepted a message but before the outbox recorded
it, the retry carries the same Message-ID, so a receiver can tell it is the same message.
"""
from __future__ import annotations

import base64
import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parseaddr

from notifications.render import RenderedEmail

DEFAULT_DOMAIN = "suivi-m3.local"
_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f]")


def message_id(notification_id: int, dedupe_key: str, domain: str = DEFAULT_DOMAIN) -> str:
    digest = hashlib.sha1(dedupe_key.encode("utf-8")).hexdigest()[:12]
    return f"<m3.{notification_id}.{digest}@{domain}>"


@dataclass(frozen=True)
class OutgoingEmail:
    message_id: str
    mail_from: str  # envelope sender (bare address)
    to: str
    data: bytes  # the whole message, CRLF line ends, ready for DATA


def encoded_words(value: str) -> str:
    """RFC 2047 for a non-ASCII header value: base64 encoded words of at most 45 bytes of UTF-8
    (never splitting a character), folded one per line."""
    if value.isascii():
        return value
    words, chunk = [], b""
    for ch in value:
        b = ch.encode("utf-8")
        if len(chunk) + len(b) > 45:
            words.append(chunk)
            chunk = b""
        chunk += b
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words if w)


def _address_header(value: str) -> str:
    name, addr = parseaddr(value)
    if not name or value.isascii():
        return value
    return f"{encoded_words(name)} <{addr}>"


def _part(subtype: str, text: str) -> bytes:
    body = base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")
    return (f"Content-Type: text/{subtype}; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode("ascii") + body


def build_message(rendered: RenderedEmail, *, to: str, mail_from: str, msg_id: str, date: datetime,
                  kind: str) -> OutgoingEmail:
    """A multipart/alternative message (text, then HTML), both parts UTF-8 in base64; with
    attachments (the bilan's PDF), a multipart/mixed holding that alternative, then the files.

    Written by hand rather than with the email package: its header folding costs several
    milliseconds a message (most of the budget at a few hundred messages a second), and a
    message of two text parts is simple enough. Tests parse the result with the email package.
    """
    if not to.isascii():
        raise smtplib.SMTPNotSupportedError("non-ASCII recipient address (SMTPUTF8 not used)")
    headers = [("Message-ID", msg_id), ("Date", format_datetime(date)), ("From", _address_header(mail_from)),
               ("To", to), ("Subject", encoded_words(rendered.subject))]
    if rendered.reply_to:
        headers.append(("Reply-To", rendered.reply_to))
    if rendered.list_unsubscribe:
        targets = [rendered.list_unsubscribe, *([rendered.list_unsubscribe_mailto] if rendered.list_unsubscribe_mailto else [])]
        headers.append(("List-Unsubscribe", ", ".join(f"<{t}>" for t in targets)))
        if rendered.one_click:  # RFC 8058: the mail client may POST List-Unsubscribe=One-Click to the link
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    if rendered.internal:
        headers.append(("Auto-Submitted", "auto-generated"))
    boundary = "m3-" + hashlib.sha1(msg_id.encode("utf-8")).hexdigest()[:24]
    attachments = getattr(rendered, "attachments", ())
    outer = f"{boundary}-mixed"  # with attachments: multipart/mixed around the alternative
    headers += [("X-M3-Kind", kind), ("MIME-Version", "1.0"),
                ("Content-Type", f'multipart/mixed; boundary="{outer}"' if attachments
                 else f'multipart/alternative; boundary="{boundary}"')]
    for name, value in headers:
        # Header injection guard: no line break but our own folding (CRLF + space), no other control
        # character. The message names the header, never its value (it may be an address).
        if _UNSAFE_IN_HEADER.search(value.replace("\r\n ", "")):
            raise ValueError(f"line break or control character in header {name}")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii")
    sep = f"--{boundary}\r\n".encode("ascii")
    body = b"".join((sep, _part("plain", rendered.text), sep, _part("html", rendered.html),
                     f"--{boundary}--\r\n".encode("ascii")))
    if attachments:
        body = b"".join((f"--{outer}\r\n".encode("ascii"),
                         f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode("ascii"), body,
                         *(_attachment(outer, a) for a in attachments), f"--{outer}--\r\n".encode("ascii")))
    data = b"".join((head, b"\r\n", body))
    return OutgoingEmail(msg_id, parseaddr(mail_from)[1], to, data)


def _attachment(boundary: str, a) -> bytes:
    """One attached file (a notifications.render.Attachment), base64; its name must be ASCII."""
    if not a.filename.isascii() or any(c in a.filename for c in '"\\\r\n'):
        raise ValueError("attachment file name must be plain ASCII")
    payload = base64.encodebytes(a.data).replace(b"\n", b"\r\n")
    return (f"--{boundary}\r\nContent-Type: {a.content_type}; name=\"{a.filename}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{a.filename}\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode("ascii") + payload


class SmtpSender:
    """Sends EmailMessages over one SMTP connection, opened on first use and kept for the batch.

    STARTTLS and login happen once per connection when configured. If the server dropped an
    idle connection, `send` reconnects once and retries; any other failure is the caller's.
    """

    def __init__(self, host: str, port: int, *, starttls: bool = False, user: str | None = None,
                 password: str | None = None, timeout: float = 10.0, local_hostname: str | None = None) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.user, self.password, self.timeout = user, password, timeout
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None
        self._fresh = False  # the connection has not carried a message yet
        self.connections = 0  # how many connections were opened (the benchmark checks it is 1)

    @classmethod
    def from_settings(cls, settings) -> SmtpSender:
        return cls(settings.smtp_host, settings.smtp_port, starttls=settings.smtp_starttls,
                   user=settings.smtp_user, password=settings.smtp_password, timeout=settings.smtp_timeout_s)

    def connect(self) -> None:
        if self._smtp is not None:
            return
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname)
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        self._fresh = True
        self.connections += 1

    def send(self, msg: OutgoingEmail) -> None:
        fresh = self._smtp is None or self._fresh
        self.connect()
        try:
            self._smtp.sendmail(msg.mail_from, [msg.to], msg.data)  # type: ignore[union-attr]
        except smtplib.SMTPServerDisconnected:
            self._drop()
            if fresh:
                raise
            self.connect()  # the server closed an idle connection: one retry on a new one
            self._smtp.sendmail(msg.mail_from, [msg.to], msg.data)  # type: ignore[union-attr]
        finally:
            self._fresh = False  # the server answered on it (a refusal too): no longer a new connection

    def abandon(self) -> None:
        """Drop the connection without QUIT (after an error that may have left a transaction half
        done); the next message opens a new one."""
        self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self._drop()

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
