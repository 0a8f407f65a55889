"""Security headers on the JSON API and the pages (issue 9, hole 9)."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from api.security_headers import SecurityHeaders
from tests.integration.api_support import api  # noqa: F401


def _run_alone(coro):
    """Run an ASGI call on a loop of its own thread: the browser tests' Playwright may hold a loop here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _answer(content_type: bytes, path: str, https: bool = False, extra=()):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", content_type), *extra]})
        await send({"type": "http.response.body", "body": b""})
    sent = []

    async def send(message):
        sent.append(message)
    _run_alone(SecurityHeaders(app, https=https)({"type": "http", "path": path}, None, send))
    return {k.decode(): v.decode() for k, v in sent[0]["headers"]}


def test_security_headers__json_is_nosniff_and_never_cached():
    h = _answer(b"application/json", "/api/cases/1")
    assert h["x-content-type-options"] == "nosniff" and h["cache-control"] == "no-store"
    assert "content-security-policy" not in h and "strict-transport-security" not in h


def test_security_headers__pages_get_a_strict_csp_without_inline_script():
    csp = _answer(b"text/html; charset=utf-8", "/dossiers")["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def test_security_headers__swagger_may_run_its_inline_start_script_only_on_docs():
    assert "'unsafe-inline'" in _answer(b"text/html", "/docs")["content-security-policy"]


def test_security_headers__static_files_stay_cacheable():
    assert "cache-control" not in _answer(b"text/css", "/static/app.css")


def test_security_headers__hsts_only_over_https():
    assert "strict-transport-security" in _answer(b"application/json", "/api/x", https=True)


def test_security_headers__a_route_s_own_cache_control_is_kept():
    h = _answer(b"application/pdf", "/api/cases/1/bilans/1.pdf", extra=[(b"cache-control", b"private")])
    assert h["cache-control"] == "private"


def test_api__answers_carry_the_headers(api):
    resp = api.client.get("/api/cases", headers=api.h("advisor"))
    assert resp.headers["x-content-type-options"] == "nosniff" and resp.headers["cache-control"] == "no-store"
    refused = api.client.get("/api/cases")
    assert refused.status_code == 401 and refused.headers["x-content-type-options"] == "nosniff"
