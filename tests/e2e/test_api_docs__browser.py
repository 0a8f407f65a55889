"""/docs (Swagger UI) and /redoc in a real browser, with every address outside the server cut off:
both render the French OpenAPI (operations, examples, problem+json errors) from the app's own
files, and run under the pages' security policy without a script error.

Screenshots: tests/e2e/screenshots/api-docs*.png.
"""
from __future__ import annotations

import pytest

from tests.e2e.conftest import Counted

pytestmark = pytest.mark.e2e
# ReDoc's bundle names its footer logo on its CDN: the security policy blocks it (img-src 'self')
# before any request goes out, and the route below would cut it anyway.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _offline(p: Counted) -> tuple[list[str], list[str]]:
    outside, errors = [], []

    def route(r):
        if r.request.url.startswith(p.base) or r.request.url.startswith(("blob:", "data:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    p.page.route("**/*", route)
    p.page.on("pageerror", lambda e: errors.append(str(e)[:300]))
    return outside, errors


def test_api_docs__swagger_ui_works_offline_with_french_operations_and_problem_examples(new_page):
    p = new_page()
    outside, errors = _offline(p)
    p.goto("/docs#/travail%20sur%20le%20dossier/recordAttempt")
    op = p.page.locator("#operations-travail_sur_le_dossier-recordAttempt")
    op.wait_for(timeout=60_000)  # Swagger UI renders ~40 operations first
    assert "Enregistrer une tentative de contact" in op.inner_text()
    body = op.inner_text()
    for text in ("Appel sortant sans réponse", "application/problem+json", "event_not_allowed", "if_match_required",
                 "Rôles : chargé(e) de clientèle"):
        assert text in body, text
    p.shot("api-docs", full_page=False)
    assert not outside, outside
    assert not errors, errors


def test_api_docs__redoc_works_offline(new_page):
    p = new_page()
    outside, errors = _offline(p)
    p.goto("/redoc")
    p.page.locator("h2", has_text="Enregistrer une tentative de contact").wait_for(timeout=60_000)
    p.shot("api-docs-redoc", full_page=False)
    assert set(outside) <= {REDOC_LOGO}, outside
    assert not errors, errors
