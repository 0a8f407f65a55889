"""/docs (Swagger UI) and /redoc work offline: every script, style sheet and icon they load is
served by the app itself (fastapi-offline), none from a CDN, and the page's security policy
allows only this origin."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.app import create_app

CDNS = ("cdn.jsdelivr", "unpkg", "cdnjs", "googleapis", "gstatic", "http://", "https://")


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(create_engine("sqlite://"))) as c:  # the docs never reach the database
        yield c


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html) \
        + re.findall(r'spec-url="([^"]+)"', html)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs__page_loads_every_asset_from_the_app_not_a_cdn(client, page):
    resp = client.get(page)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert not [c for c in CDNS if c in html], f"{page} names an outside address"
    assets = _assets(html)
    assert "/openapi.json" in assets and any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        got = client.get(asset)
        assert got.status_code == 200 and got.content, (asset, got.status_code)
        if asset.endswith(".js"):
            assert "javascript" in got.headers["content-type"], (asset, got.headers["content-type"])
    # The browser may load nothing from elsewhere either.
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and not [c for c in CDNS if c in csp], csp


def test_api_docs__swagger_ui_reads_the_french_openapi(client):
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "Suivi M+3"
    assert schema["paths"]["/api/cases/{case_id}/attempts"]["post"]["summary"] == "Enregistrer une tentative de contact"
