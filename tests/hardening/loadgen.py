"""The load clients: mixed work (reads, events, attempts, documents, client corrections, page
views) from N concurrent clients against a real server, bounded in time and count.

The HTTP client is written by hand on asyncio streams (one keep-alive connection per client,
cookies for the pages), as bench/bench_api.py does: httpx costs ~3.5 ms of CPU per request,
which on this 2-core machine would be taken from the servers under test.

Every answer is recorded (kind, status, latency, Retry-After); every accepted change is
recorded as (case, If-Match version, new version) so the test can prove that no change was
accepted twice and that each has exactly one audit record.
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.hardening.servers import AUTO_CODES, PASSWORD, Seeded

CLOSING = {"declarer_injoignable", "enregistrer_refus", "classer_sans_suite", "cloturer", "cloturer_satisfait"}
_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
MAX_REQUESTS = 2_000_000  # a hard bound on top of the time bound


class Conn:
    """One keep-alive HTTP/1.1 connection; reconnects after the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}
        self.used = 0  # requests sent on the current connection

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"", timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
        return await asyncio.wait_for(self._request(method, path, headers or {}, body), timeout)

    async def _request(self, method, path, headers, body):
        # A kept-alive connection the server closed while idle (uvicorn's keep-alive timeout)
        # fails before any byte of the answer: as every HTTP client does, open a new one and send
        # the request again, once. It never reached the application (If-Match would refuse a
        # second change anyway, and the audit check would see it).
        reused = self.writer is not None and self.used > 0
        try:
            return await self._send(method, path, headers, body)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            await self.close()
            return await self._send(method, path, headers, body)

    async def _send(self, method, path, headers, body):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.used = 0
        self.used += 1
        if self.cookies:
            headers = {**headers, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        try:
            await self.writer.drain()
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(":")
            k, v = k.strip().lower(), v.strip()
            if k == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value and "max-age=0" not in v.lower():
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)
            fields[k] = v
        if "content-length" in fields:
            data = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunked()
        else:
            data = b""
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, fields, data

    async def _chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(out)
            out += await self.reader.readexactly(size + 2)
            del out[-2:]

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@dataclass
class Results:
    started: float = 0.0
    elapsed: float = 0.0
    # (seconds since the start, kind, status, latency in ms, Retry-After)
    answers: list[tuple[float, str, int, float, str | None]] = field(default_factory=list)
    accepted: list[tuple[int, int, int, str]] = field(default_factory=list)  # (case, if-match, new version, kind)
    transport_errors: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # 5xx bodies, a few

    def statuses(self) -> Counter:
        return Counter(s for _, _, s, _, _ in self.answers)

    def by_kind(self) -> Counter:
        return Counter((k, s) for _, k, s, _, _ in self.answers)

    def server_errors(self) -> list[tuple]:
        return [a for a in self.answers if a[2] >= 500]

    def throughput(self) -> float:
        return len(self.answers) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float, kinds: set[str] | None = None) -> float:
        lat = sorted(ms for _, k, _, ms, _ in self.answers if kinds is None or k in kinds)
        return lat[min(len(lat) - 1, int(len(lat) * p))] if lat else 0.0

    def summary(self) -> str:
        st = self.statuses()
        fives = sum(n for s, n in st.items() if s >= 500)
        return (f"{len(self.answers)} requests in {self.elapsed:.1f} s = {self.throughput():.0f} req/s, "
                f"p50 {self.percentile(0.5):.0f} ms, p99 {self.percentile(0.99):.0f} ms; "
                f"{len(self.accepted)} changes accepted; statuses {dict(sorted(st.items()))}; "
                f"5xx {fives} (503: {st.get(503, 0)}); transport errors {dict(self.transport_errors)}")


WEIGHTS = (("list", 12), ("detail", 18), ("client", 14), ("document", 16), ("attempt", 12), ("event", 12),
           ("hot", 10), ("page", 6))
PAGE_CLIENT_EVERY = 5  # one client in five also browses the pages with a session


class Client:
    def __init__(self, n: int, seeded: Seeded, host: str, port: int, results: Results, rng: random.Random,
                 weights=WEIGHTS, honour_retry_after: float = 1.0) -> None:
        self.n, self.seeded, self.results, self.rng = n, seeded, results, rng
        self.me = seeded.advisors[n % len(seeded.advisors)]
        self.auth = {"Authorization": f"Bearer {self.me['token']}"}
        self.conn = Conn(host, port)
        self.page_conn = Conn(host, port) if n % PAGE_CLIENT_EVERY == 0 else None
        self.versions: dict[int, int] = {}
        self.events: dict[int, list[str]] = {}
        self.doc_flip: dict[tuple[int, str], bool] = {}
        self.kinds = [k for k, w in weights for _ in range(w) if k != "page" or self.page_conn]
        self.honour = honour_retry_after
        self.logged_in = False

    def _record(self, t0: float, kind: str, status: int, headers: dict[str, str], data: bytes) -> None:
        ms = (time.perf_counter() - t0) * 1000
        self.results.answers.append((time.monotonic() - self.results.started, kind, status, ms,
                                     headers.get("retry-after")))
        if status >= 500 and len(self.results.problems) < 20:
            self.results.problems.append(f"{kind} {status} {data[:300]!r}")

    async def call(self, kind: str, method: str, path: str, body: dict | None = None, version: int | None = None,
                   case_id: int | None = None, conn: Conn | None = None, headers: dict | None = None,
                   raw: bytes | None = None) -> tuple[int, dict, bytes]:
        h = dict(self.auth if conn is None else {}, **(headers or {}))
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        if body is not None:
            h["Content-Type"] = "application/json"
        if version is not None:
            h["If-Match"] = f'"{version}"'
        t0 = time.perf_counter()
        c = conn or self.conn
        try:
            status, fields, out = await c.request(method, path, h, data)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
            self.results.transport_errors[type(exc).__name__] += 1
            await c.close()
            return 0, {}, b""
        self._record(t0, kind, status, fields, out)
        if status == 503 and self.honour:
            try:
                await asyncio.sleep(min(float(fields.get("retry-after", 1)), self.honour))
            except ValueError:
                pass
        if case_id is not None:
            self._learn(kind, case_id, version, status, fields, out)
        return status, fields, out

    def _learn(self, kind, case_id, version, status, fields, out) -> None:
        try:
            doc = json.loads(out) if out else {}
        except ValueError:
            return
        if status == 200 and version is not None and isinstance(doc, dict) and "version" in doc:
            self.results.accepted.append((case_id, version, int(doc["version"]), kind))
            self.versions[case_id] = int(doc["version"])
            self.events.pop(case_id, None)
        elif status == 200 and version is None and isinstance(doc, dict) and "version" in doc:
            self.versions[case_id] = int(doc["version"])
            self.events[case_id] = [e["event"] for e in doc.get("events", []) if e.get("can_fire")]
        elif status == 409 and isinstance(doc, dict) and doc.get("current_version"):
            self.versions[case_id] = int(doc["current_version"])

    def pick_case(self) -> int:
        mine = self.me["cases"]
        return self.rng.choice(mine) if mine else self.rng.choice(self.seeded.hot[self.me["agency"]])

    async def step(self) -> None:
        kind = self.rng.choice(self.kinds)
        case_id = self.pick_case()
        v = self.versions.get(case_id, 1)
        if kind == "list":
            page = self.rng.randint(1, 3)
            await self.call(kind, "GET", f"/api/cases?agency={self.me['agency']}&per_page=20&page={page}"
                                         f"&sort=-priority")
        elif kind == "detail":
            await self.call(kind, "GET", f"/api/cases/{case_id}", case_id=case_id)
        elif kind == "client":
            await self.call(kind, "PATCH", f"/api/cases/{case_id}/client",
                            {"city": self.rng.choice(["Marseille", "Aubagne", "Cassis", "La Ciotat"])}, v, case_id)
        elif kind == "document":
            code = self.rng.choice(AUTO_CODES)
            flip = self.doc_flip[(case_id, code)] = not self.doc_flip.get((case_id, code), False)
            await self.call(kind, "PUT", f"/api/cases/{case_id}/contracts/{self.seeded.contract_of[case_id]}"
                                         f"/requirements/{code}", {"status": "validated" if flip else "received"},
                            v, case_id)
        elif kind == "attempt":
            body = self.rng.choice([{"channel": "email", "outcome": "sent"}, {"channel": "letter", "outcome": "sent"},
                                    {"channel": "phone", "outcome": "no_answer", "direction": "inbound"},
                                    {"channel": "email", "outcome": "replied"}])
            await self.call(kind, "POST", f"/api/cases/{case_id}/attempts", body, v, case_id)
        elif kind == "event":
            allowed = self.events.get(case_id)
            if allowed is None:
                await self.call("detail", "GET", f"/api/cases/{case_id}", case_id=case_id)
                return
            keep_open = [e for e in allowed if e not in CLOSING]
            choices = keep_open if keep_open and self.rng.random() < 0.97 else allowed
            if not choices:
                self.events.pop(case_id, None)
                return
            await self.call(kind, "POST", f"/api/cases/{case_id}/events/{self.rng.choice(choices)}", None, v, case_id)
        elif kind == "hot":
            # A race: every client of the agency reads a shared case, then writes with what it read;
            # If-Match lets exactly one writer of each version through.
            hot = self.rng.choice(self.seeded.hot[self.me["agency"]])
            status, _, _ = await self.call("detail", "GET", f"/api/cases/{hot}", case_id=hot)
            if status == 200:
                await self.call("hot", "PATCH", f"/api/cases/{hot}/client",
                                {"postal_code": self.rng.choice(["13007", "13008", "13009"])},
                                self.versions.get(hot, 1), hot)
        elif kind == "page":
            await self.page(case_id)

    async def login(self) -> None:
        status, _, html = await self.call("page", "GET", "/connexion", conn=self.page_conn)
        m = _CSRF.search(html.decode("utf-8", "replace")) if status == 200 else None
        if not m:
            return
        form = f"username={self.me['username']}&password={PASSWORD.replace(' ', '+')}&csrf_token={m.group(1)}"
        status, fields, _ = await self.call("login", "POST", "/connexion", conn=self.page_conn, raw=form.encode(),
                                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.logged_in = status == 303 and "connexion" not in fields.get("location", "connexion")

    async def page(self, case_id: int) -> None:
        if not self.logged_in:
            await self.login()
            return
        if self.rng.random() < 0.3:
            status, _, _ = await self.call("page", "GET", "/dossiers", conn=self.page_conn)
        else:
            status, _, _ = await self.call("page", "GET", f"/dossiers/{case_id}", conn=self.page_conn)
        if status in (302, 303, 401):
            self.logged_in = False

    async def run(self, deadline: float) -> None:
        try:
            while time.monotonic() < deadline and len(self.results.answers) < MAX_REQUESTS:
                await self.step()
        finally:
            await self.conn.close()
            if self.page_conn:
                await self.page_conn.close()


async def drive(seeded: Seeded, host: str, port: int, clients: int, seconds: float, seed: int = 9,
                weights=WEIGHTS, results: Results | None = None, honour_retry_after: float = 1.0) -> Results:
    results = results or Results()
    rng = random.Random(seed)
    pool = [Client(n, seeded, host, port, results, random.Random(rng.random()), weights, honour_retry_after)
            for n in range(clients)]
    results.started = time.monotonic()
    deadline = results.started + seconds
    t0 = time.perf_counter()
    await asyncio.gather(*(c.run(deadline) for c in pool))
    results.elapsed = time.perf_counter() - t0
    return results


def run(coro):
    """uvloop when present (as the servers have): less of the load generator's CPU per request."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)
