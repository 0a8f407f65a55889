"""Faults: PostgreSQL unreachable for a while under load, through a TCP proxy the test starts
(never by restarting the shared server). Clients see 503 database_unavailable with Retry-After,
never a 500; the server recovers on its own once the database is back; nothing acknowledged is
lost, nothing is accepted twice, and `m3 audit verify` passes."""
from __future__ import annotations

import asyncio

import pytest

from tests.hardening import checks, loadgen
from tests.hardening.pgproxy import PgProxy
from tests.hardening.profile import PROFILE

pytestmark = [pytest.mark.hardening, pytest.mark.postgres]

BEFORE_S, AFTER_S = 3.0, 8.0
RECOVERED_WITHIN_S = 5.0  # after the database is back, every answer is a success again within this


async def _load_with_outage(seeded, port: int, proxy: PgProxy, outage: float, results: loadgen.Results):
    async def fault() -> None:
        await asyncio.sleep(BEFORE_S)  # the fault's schedule, inside a bounded load
        await asyncio.to_thread(proxy.pause)
        await asyncio.sleep(outage)
        await asyncio.to_thread(proxy.resume)

    f = asyncio.ensure_future(fault())
    await loadgen.drive(seeded, "127.0.0.1", port, PROFILE.load_clients, BEFORE_S + outage + AFTER_S,
                        results=results, honour_retry_after=0.5)
    await f


@pytest.mark.parametrize("deployment", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_faults__postgres_unreachable_answers_503_then_recovers_alone(deployment, zygote, figures):
    d = deployment
    baseline = checks.audit_counts(d.url)
    results = loadgen.Results()
    outage = PROFILE.outage_seconds
    loadgen.run(_load_with_outage(d.seeded, d.server.port, d.proxy, outage, results))
    start, end = BEFORE_S, BEFORE_S + outage
    # Each answer is placed at the time its request was sent (answered time less its latency).
    during = [a for a in results.answers if start <= a[0] - a[3] / 1000 <= end]
    late = [a for a in results.answers if a[0] - a[3] / 1000 > end + RECOVERED_WITHIN_S]
    refused = [a for a in results.answers if a[2] == 503]
    first_ok_after = min((a[0] for a in results.answers if a[0] > end and a[2] < 500), default=None)
    last_503 = max((a[0] for a in refused), default=None)
    figures(f"PostgreSQL unreachable {outage:.0f} s under load ({PROFILE.load_clients} clients): "
            f"{len(refused)} answers 503 (all with Retry-After: {all(a[4] for a in refused)}), "
            f"{sum(1 for a in results.answers if a[2] >= 500 and a[2] != 503)} other 5xx; first success "
            f"{(first_ok_after - end) if first_ok_after else float('nan'):.1f} s after the database came back, "
            f"last 503 {(last_503 - end) if last_503 else 0:.1f} s after; {results.summary()}")
    assert not [a for a in results.answers if a[2] >= 500 and a[2] != 503], results.problems[:5]
    assert not results.transport_errors, dict(results.transport_errors)
    assert refused and all(a[4] and int(a[4]) >= 1 for a in refused), "the outage was not seen as 503 + Retry-After"
    assert all(a[2] == 503 or a[2] < 500 for a in during)
    assert sum(1 for a in during if a[2] == 503) >= len(during) // 2, "the outage did not refuse most requests"
    assert late and all(a[2] < 500 for a in late), "the server did not recover on its own"
    assert sum(1 for a in late if a[2] == 200) >= 10
    report = checks.check_changes(d.url, results.accepted, exact=False, baseline=baseline)
    assert not report["problems"], "\n".join(report["problems"][:20])
    # A write whose COMMIT reached the server but whose answer was lost with the connection is
    # in the database although its client got 503: If-Match makes the client's resend a 409,
    # never a second change. Counted, for the report.
    acked: dict[int, int] = {}
    for case_id, *_ in results.accepted:
        acked[case_id] = acked.get(case_id, 0) + 1
    counts = checks.audit_counts(d.url)
    unacknowledged = sum(v - baseline[c][0] - acked.get(c, 0) for c, (v, _, _) in counts.items())
    figures(f"PostgreSQL outage: {report['accepted']} changes acknowledged, {unacknowledged} committed "
            f"but answered 503 (commit lost with the connection), 0 accepted twice")
    code, out = checks.audit_verify(zygote, d.url)
    assert code == 0 and "journal d'audit intègre" in out, out
