"""Refuse an oversized request body before reading it, and before authentication.

Pure ASGI, outermost: a declared `Content-Length` above the limit is answered 413 at once, with
nothing read; a body without a length (chunked) is counted as it streams and cut off at the limit.
Why this matters: FastAPI reads and parses a JSON body before any dependency runs, so an anonymous
60 MB body used to occupy a worker for seconds and stall every request behind it.
The CRM export uploaded from the manager's page is the one larger body: paths under
`upload_prefixes` get `upload_limit` instead.
"""
from __future__ import annotations

import json
from typing import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_JSON = b"application/problem+json"


class BodyTooLarge(Exception):
    pass


def _problem(limit: int) -> bytes:
    return json.dumps({
        "type": "urn:suivi-m3:problem:payload_too_large", "code": "payload_too_large",
        "title": "Requête trop volumineuse", "status": 413,
        "detail": f"le corps de la requête dépasse {limit} octets", "limit_bytes": limit,
    }, ensure_ascii=False).encode()


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None,
                 upload_prefixes: Iterable[str] = ()) -> None:
        self.app, self.limit = app, limit
        self.upload_limit = upload_limit or limit
        self.upload_prefixes = tuple(upload_prefixes)

    def _limit_for(self, path: str) -> int:
        return self.upload_limit if self.upload_prefixes and path.startswith(self.upload_prefixes) else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False  # the server refuses a malformed length itself
            if too_big:
                await self._refuse(send, limit)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = _problem(limit)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM_JSON), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
