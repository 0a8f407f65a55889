"""Faults: the server (supervisor and both workers) SIGKILLed while clients write, then
restarted on the same database: every acknowledged change is there, no change is half-applied
(each case's version equals its number of audit records), none was accepted twice, and
`m3 audit verify` (hash chains, and each case's state and version replayed from its trail)
passes. The restarted server then serves writes again with no 5xx."""
from __future__ import annotations

import asyncio
import random

import pytest

from tests.hardening import checks, loadgen
from tests.hardening.profile import PROFILE

pytestmark = pytest.mark.hardening

WRITES = (("client", 30), ("document", 30), ("attempt", 15), ("event", 15), ("hot", 10))


async def _write_then_kill(d, delay: float) -> loadgen.Results:
    results = loadgen.Results()

    async def kill() -> None:
        await asyncio.sleep(delay)  # the fault's moment: a random point of the write load
        await asyncio.to_thread(d.server.sigkill)

    killer = asyncio.ensure_future(kill())
    await loadgen.drive(d.seeded, "127.0.0.1", d.server.port, PROFILE.load_clients, delay + 1.0,
                        weights=WRITES, results=results, honour_retry_after=0)
    await killer
    return results


def test_faults__server_sigkilled_during_writes_then_restarted_is_consistent(deployment, zygote, figures):
    d = deployment
    rng = random.Random(20261121)
    acked_total, lost_in_flight = 0, 0
    for n in range(PROFILE.server_kills):
        delay = rng.uniform(1.5, 4.0)
        results = loadgen.run(_write_then_kill(d, delay))
        before_kill = [a for a in results.answers if a[0] < delay]
        assert before_kill and not [a for a in before_kill if a[2] >= 500], results.problems
        assert results.accepted, "nothing was written before the kill"
        acked_total += len(results.accepted)
        lost_in_flight += sum(results.transport_errors.values())
        d.server.start()  # restart on the same database
        report = checks.check_changes(d.url, results.accepted, exact=False)
        assert not report["problems"], f"kill {n + 1}: " + "\n".join(report["problems"][:20])
        code, out = checks.audit_verify(zygote, d.url)
        assert code == 0 and "journal d'audit intègre" in out, f"kill {n + 1}: {out}"
    # The restarted server works: writes go through again, with no 5xx.
    after = loadgen.run(loadgen.drive(d.seeded, "127.0.0.1", d.server.port, 4, 2.0, weights=WRITES))
    assert after.accepted and not after.server_errors() and not after.transport_errors, after.summary()
    assert not checks.check_changes(d.url, after.accepted, exact=False)["problems"]
    figures(f"{d.kind}: {PROFILE.server_kills} SIGKILL(s) of the server during writes survived: "
            f"{acked_total} acknowledged changes all kept, {lost_in_flight} connection attempts refused or cut "
            f"while it was down, "
            f"audit verify passed after each restart")
