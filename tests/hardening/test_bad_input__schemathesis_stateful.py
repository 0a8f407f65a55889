"""Bad input: schemathesis in its stateful mode over the OpenAPI document. Sequences of calls
chained by the links schemathesis infers from the schema (a case listed by GET /api/cases, then
read, written, its audit exported ...), against the app in-process, on both databases.

Required: no sequence of calls makes the server answer 5xx. The example count is small in the
SHORT profile (docs/hardening.md).
"""
from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from store.snapshot import CASE
from tests import factories as f
from tests.hardening.profile import PROFILE
from tests.integration.api_support import api, case_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.hardening


@pytest.mark.parametrize("engine", [k if k == "sqlite" else pytest.param(k, marks=pytest.mark.postgres)
                                    for k in PROFILE.stateful_databases], indirect=True)
def test_bad_input__stateful_call_sequences_never_answer_5xx(engine, api, figures):  # noqa: F811
    with api.engine.begin() as conn:
        for _ in range(3):
            f.ready_case(conn)
        case_in(conn, "rouviere")
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    machine = schema.as_state_machine()
    links = [name for name in dir(machine) if "__" in name and name[0].isupper()]
    assert len(links) >= 20, f"schemathesis inferred too few links: {links}"
    headers = {"Authorization": f"Bearer {api.tokens['admin']}"}
    seen: Counter = Counter()
    engine = api.engine

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            extra = {}
            case_id = (case.path_parameters or {}).get("case_id")
            if isinstance(case_id, int):  # the version the case is at: the writes reach the domain
                with engine.connect() as conn:
                    version = conn.execute(select(CASE.c.version).where(CASE.c.id == case_id)).scalar_one_or_none()
                extra["If-Match"] = f'"{version or 1}"'
            return {"headers": {**headers, **extra}}

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            seen[(case.operation.method.upper(), response.status_code)] += 1
            case.validate_response(response, checks=[not_a_server_error])

    Workflow.run(settings=settings(max_examples=PROFILE.stateful_examples,
                                   stateful_step_count=PROFILE.stateful_steps, deadline=None, database=None,
                                   derandomize=True, suppress_health_check=list(HealthCheck)))
    calls = sum(seen.values())
    figures(f"{api.engine.dialect.name}: schemathesis stateful, {PROFILE.stateful_examples} sequences of up to "
            f"{PROFILE.stateful_steps} calls over {len(links)} inferred links: {calls} calls, "
            f"{dict(sorted(seen.items()))}")
    assert calls >= PROFILE.stateful_examples
    assert not [k for k in seen if k[1] >= 500]
    # The sequences got past the listing: real cases were read, and writes reached the domain
    # (accepted, or refused by the lifecycle, a guard or a validation), not only the checks in front.
    assert seen[("GET", 200)] >= 1
    assert sum(n for (m, s), n in seen.items() if m != "GET" and s in (200, 409, 422)) >= 1, seen
