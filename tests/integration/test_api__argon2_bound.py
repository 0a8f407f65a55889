"""argon2 checks never hold every route thread (api/credentials.py): while many bad guesses are
in flight, no more than M3_ARGON2_CONCURRENCY argon2 verifications run at once, and a
legitimate request is served. Counted, not timed: a fake hasher that blocks until the test
releases it counts the verifications in flight. On SQLite and PostgreSQL."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from api import auth
from api.app import THREADS
from tests.integration.api_support import api  # noqa: F401
from tests.integration.credentials_support import Ticker, install_gate

BOUND = 2
GUESSES = 16  # twice the route threads (api.app.THREADS)
PATIENCE_S = 60  # only reached when the property fails (a loaded CI machine is slow, never this slow)


class SlowHasher:
    """The real (cheap) hasher, whose verify waits for `release` and counts the calls in flight."""

    def __init__(self, real) -> None:
        self.real, self.release = real, threading.Event()
        self._lock = threading.Lock()
        self.in_flight = self.peak = self.calls = 0

    def verify(self, hashed, secret):
        with self._lock:
            self.in_flight += 1
            self.calls += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if not self.release.wait(PATIENCE_S):
                raise TimeoutError("never released")
            return self.real.verify(hashed, secret)
        finally:
            with self._lock:
                self.in_flight -= 1

    def __getattr__(self, name):  # hash, check_needs_rehash: the real ones
        return getattr(self.real, name)


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)  # polling a condition: the outcome never depends on this delay


def test_api__a_legitimate_request_is_served_while_guesses_fill_the_argon2_slots(api, monkeypatch):  # noqa: F811
    assert BOUND < THREADS
    gate = install_gate(api.client.app, api.engine, Ticker(), concurrency=BOUND)
    slow = SlowHasher(auth._hasher)
    ids = [auth.split(t)[0] for t in api.tokens.values()]
    guesses = [f"{auth.PREFIX}{ids[i % len(ids)]}.{'x' * 40}{i:03d}" for i in range(GUESSES)]  # distinct tokens
    with TestClient(api.client.app, raise_server_exceptions=False) as client, ThreadPoolExecutor(GUESSES + 2) as pool:
        def call(token: str):
            return client.get("/api/cases", headers={"Authorization": f"Bearer {token}"}).status_code

        assert call(api.tokens["advisor"]) == 200  # verified before the attack (real hasher)
        monkeypatch.setattr(auth, "_hasher", slow)
        try:
            attack = [pool.submit(call, g) for g in guesses]

            def waiting() -> int:
                return gate._slots.statistics().tasks_waiting if gate._slots is not None else 0
            _until(lambda: slow.in_flight + waiting() == GUESSES,
                   f"every guess hashing or queued for a slot (in flight {slow.in_flight}, bound {BOUND})")
            assert slow.in_flight == BOUND and slow.peak == BOUND

            # A request with a token verified before: no argon2, served now.
            assert pool.submit(call, api.tokens["advisor"]).result(timeout=PATIENCE_S) == 200
            # A page of the pages, with no session: served now too (a route thread is free).
            assert client.get("/connexion").status_code == 200
            # A legitimate token never verified yet: it queues for a slot like the guesses.
            fresh = pool.submit(call, api.tokens["compliance"])
            _until(lambda: waiting() == GUESSES - BOUND + 1, "the fresh token queued for a slot")
            assert not fresh.done() and slow.calls == BOUND
        finally:
            slow.release.set()
        assert fresh.result(timeout=PATIENCE_S) == 200
        assert sorted(f.result(timeout=PATIENCE_S) for f in attack) == [401] * GUESSES
    assert slow.peak == BOUND and slow.calls == GUESSES + 1
