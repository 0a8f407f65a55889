"""A real SMTP server on loopback for tests and benchmarks (aiosmtpd, a test dependency).

aiosmtpd's Controller cannot be given port 0 (it connects to the port to check the server is
up), so `free_port` asks the system for a free one first.
"""
from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field

_MSGID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    message_id: str
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class CollectingHandler:
    """Keeps every message accepted; `reject` maps a recipient to an SMTP reply to refuse it with."""

    messages: list[Received] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)
    keep_content: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        content = envelope.original_content or envelope.content
        m = _MSGID.search(content[:4096])
        with self._lock:
            self.messages.append(Received(m.group(1).decode() if m else "", envelope.mail_from,
                                          list(envelope.rcpt_tos), content if self.keep_content else b""))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [m.message_id for m in self.messages]


class LoopbackSmtp:
    """An aiosmtpd server on 127.0.0.1:port, started and stopped at will (an outage on demand)."""

    def __init__(self, handler: CollectingHandler | None = None, port: int | None = None) -> None:
        self.handler = handler or CollectingHandler()
        self.port = port or free_port()
        self._controller = None

    def start(self) -> LoopbackSmtp:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LoopbackSmtp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
