"""An oversized body is refused before it is read and before authentication; validation error
lists are bounded (issue 9, hole 4)."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.body_limit import BodyLimit
from tests.integration.api_support import api, assert_problem  # noqa: F401


def _run_alone(coro):
    """Run an ASGI call on a loop of its own thread: the browser tests' Playwright may hold a loop here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _run(app, headers, chunks, path="/api/cases/1/notes"):
    sent, reads = [], []

    async def receive():
        reads.append(1)
        body = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    _run_alone(app(scope, receive, send))
    return sent, reads


async def _reading_app(scope, receive, send):
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_body_limit__a_declared_length_over_the_limit_is_refused_without_reading():
    sent, reads = _run(BodyLimit(_reading_app, limit=1000), [(b"content-length", b"60000000")], [b"x"])
    assert sent[0]["status"] == 413 and reads == []
    assert b"payload_too_large" in sent[1]["body"]


def test_body_limit__a_chunked_body_is_cut_off_at_the_limit():
    sent, reads = _run(BodyLimit(_reading_app, limit=1000), [], [b"x" * 600, b"x" * 600, b"x" * 600])
    assert sent[0]["status"] == 413 and len(reads) == 2


def test_body_limit__a_body_within_the_limit_reaches_the_app():
    sent, _ = _run(BodyLimit(_reading_app, limit=1000), [(b"content-length", b"5")], [b"hello"])
    assert sent[0]["status"] == 200


def test_body_limit__upload_paths_have_their_own_limit():
    app = BodyLimit(_reading_app, limit=1000, upload_limit=10_000, upload_prefixes=("/manager/import",))
    ok, _ = _run(app, [(b"content-length", b"5000")], [b"x" * 5000], path="/manager/import")
    refused, _ = _run(app, [(b"content-length", b"5000")], [b"x" * 5000], path="/api/cases")
    assert ok[0]["status"] == 200 and refused[0]["status"] == 413


def test_api__an_anonymous_oversized_body_answers_413_before_authentication(api):
    resp = api.client.post("/api/cases/1/attempts", content=b"{" + b" " * 2_000_000 + b"}",
                           headers={"Content-Type": "application/json"})
    assert_problem(resp, 413, "payload_too_large")


def test_api__validation_errors_are_bounded(api):
    wrong = {f"champ_{i}": "x" for i in range(500)}  # every unknown field is an error of its own
    resp = api.client.patch("/api/cases/1/client", json=wrong, headers=api.h("advisor", 1))
    doc = assert_problem(resp, 422, "invalid_payload")
    assert len(doc["errors"]) == 20 and doc["errors_omitted"] == 480
    assert len(doc["detail"]) < 300
