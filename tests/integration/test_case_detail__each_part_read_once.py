"""The case detail reads each table once (issue 10), on the JSON route and on the page, on both
databases: the snapshot the domain derives the allowed events from and the rendering share the
same rows (store/case_read.py).

A statement "reads" every table named after a FROM or a JOIN; the statements are counted with
SQLAlchemy's before_cursor_execute event around one request, on a case with rows in every part
(bench/case_detail_book.py, the benchmark's case)."""
from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from bench.case_detail_book import NOW, USERNAME, create_advisor_user, seed_rows, work_the_case
from tests.integration.pages_support import html, site  # noqa: F401  (fixture)

_TABLES = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)
# Every table the detail shows a part of: each must be read exactly once.
PARTS = {"followup_case", "client", "contract", "case_contract", "contract_requirement", "contact_attempt",
         "appointment", "inventory_line", "bilan_outcome", "bilan_suggestion_decision", "case_topic",
         "planned_action", "advisor", "case_note", "bilan_record"}


@contextmanager
def reads(engine):
    """Yields a Counter: table -> statements that read it."""
    counts: Counter = Counter()

    def count(conn, cursor, statement, parameters, context, executemany):
        counts.update(set(_TABLES.findall(statement)))
        counts["(statements)"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def worked(site):  # noqa: F811
    """(site, case id, API token, logged-in browser): the benchmark's case, written through the API."""
    site.clock.now = NOW
    case_id, adv, contracts = seed_rows(site.engine)
    token = create_advisor_user(site.engine, adv)
    browser = site.browser()
    work_the_case(browser.client, token, case_id, contracts, adv)
    assert browser.login(USERNAME, "banc d'essai du dossier").status_code == 303
    return site, case_id, token, browser


def _assert_each_once(counts: Counter, also: set[str] = frozenset()) -> None:
    twice = {t: n for t, n in counts.items() if n > 1 and t != "(statements)"}
    assert not twice, f"read more than once: {twice} ({counts})"
    assert PARTS | also <= set(counts), f"not read: {PARTS | also - set(counts)}"


def test_case_detail__json_route_reads_each_table_once(worked):
    site, case_id, token, browser = worked
    with reads(site.engine) as counts:
        resp = browser.client.get(f"/api/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    for part in ("attempts", "inventory", "outcomes", "actions", "appointments", "notes", "topics", "contracts"):
        assert body[part], f"the case has no {part}: the count would miss the statements of a full part"
    _assert_each_once(counts, {"app_user"})
    # One per table, the case and its client in one: 14 with the token's user (25 before issue 10).
    assert counts["(statements)"] == 14, counts


def test_case_detail__page_reads_each_table_once(worked):
    site, case_id, _, browser = worked
    with reads(site.engine) as counts:
        resp = browser.client.get(f"/dossiers/{case_id}")
    assert resp.status_code == 200, resp.text
    assert html(resp).css_first("#case-body") is not None
    # The page adds the audit trail and the agencies; the advisors its forms offer come with the case's.
    _assert_each_once(counts, {"app_user", "audit_record", "agency"})
    assert counts["(statements)"] == 16, counts  # 31 before issue 10
