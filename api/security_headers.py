"""Security headers on every answer, built with the maintained `secure` library.

- Everything: `X-Content-Type-Options: nosniff`, `Referrer-Policy`, `X-Frame-Options: DENY`
  (with CSP `frame-ancestors 'none'`).
- Personal data (the JSON API and the pages, i.e. all but /static): `Cache-Control: no-store`, so
  no browser or proxy keeps a client's record. Static files (CSS, the vendored htmx) stay cacheable.
- HTML: a Content-Security-Policy allowing only this origin's scripts and styles (no inline
  script, no CDN), so an injected `<script>` would not run even if escaping failed. `/docs`
  (Swagger UI, whose page starts itself with an inline script) and `/redoc` (ReDoc, which styles
  its page inline) get the same policy plus inline scripts and styles.
- `Strict-Transport-Security` only when served over HTTPS (`M3_SESSION_HTTPS_ONLY=1`, which also
  makes the session cookie `Secure`): over plain HTTP on a laptop it would be ignored at best.
Pure ASGI: headers are added to `http.response.start`, whatever produced the answer.
"""
from __future__ import annotations

import secure
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _csp(inline: bool) -> secure.ContentSecurityPolicy:
    extra = ("'unsafe-inline'",) if inline else ()
    policy = (secure.ContentSecurityPolicy()
              .default_src("'self'").base_uri("'self'").form_action("'self'").frame_ancestors("'none'")
              .object_src("'none'").img_src("'self'", "data:").script_src("'self'", *extra)
              .style_src("'self'", *extra).connect_src("'self'"))
    # The documentation pages only: ReDoc runs its search index in a worker made from a blob.
    return policy.worker_src("'self'", "blob:") if inline else policy


def _encode(policy: secure.Secure) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in policy.headers.items()]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        hsts = secure.StrictTransportSecurity().max_age(31_536_000).include_subdomains() if https else None
        common = dict(xcto=secure.XContentTypeOptions(), referrer=secure.ReferrerPolicy().strict_origin_when_cross_origin(),
                      xfo=secure.XFrameOptions().deny(), hsts=hsts)
        no_store = secure.CacheControl().no_store()
        self._static = _encode(secure.Secure(**common))
        self._data = _encode(secure.Secure(cache=no_store, **common))
        self._html = _encode(secure.Secure(cache=no_store, csp=_csp(inline=False), **common))
        self._docs_html = _encode(secure.Secure(cache=no_store, csp=_csp(inline=True), **common))

    def _for(self, path: str, content_type: bytes) -> list[tuple[bytes, bytes]]:
        if path.startswith("/static/"):
            return self._static
        if content_type.startswith(b"text/html"):
            return self._docs_html if path.startswith(("/docs", "/redoc")) else self._html
        return self._data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                headers += [(k, v) for k, v in self._for(path, content_type) if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
