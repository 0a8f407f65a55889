"""Credential checks under attack: shared rate limits, and a bound on argon2.

argon2 costs ~50 ms of CPU and 64 MiB per check, on purpose. It used to run in the route thread
pool (api.app.THREADS = 8): 16 clients guessing held every thread, and a legitimate user waited
3.9 s. Three things keep guessing from stalling the server:

- **Rate limits on failures** (`limits`, moving window, `AuthLimits`), counted in the database
  (store/auth_limits.py, table `auth_failure`), so every server process and machine shares them:
  - passwords (page login, password change): per username, `M3_LOGIN_LIMIT_USER`, and per
    client address, `M3_LOGIN_LIMIT_ADDRESS`;
  - bearer tokens (API, `POST /api/session`): per token id, `M3_TOKEN_LIMIT_ID`, and per client
    address, `M3_TOKEN_LIMIT_ADDRESS`.
  The account (username, token id) is checked first, then the address, with a generous
  threshold (an agency's advisors share one address). IPv6 addresses count per /64. A blocked
  check is refused (`Throttled`: 429 with Retry-After) before anything is hashed, and checked
  again just before hashing, so guesses queued while the failures piled up are refused too.
  Blocked attempts are not counted: the window slides, and a locked-out user gets in once the
  oldest failure is older than the window. A success clears its own account's count, never the
  address's (other people's failures from that office stand).
- **A bound on argon2**: at most `M3_ARGON2_CONCURRENCY` (default 2, always below THREADS)
  checks run at once per process, in threads of their own (an anyio CapacityLimiter). A check
  waits for a slot in the event loop, holding no route thread: requests that need no argon2 (a
  token already verified, a page session) are served whatever the guessers do, and a legitimate
  login waits its turn behind at most the queued guesses that the limits let through.
- **Single flight**: concurrent requests with the same not yet verified token wait (in the
  event loop) for one verification and take its result (api/auth.py keeps verified tokens).

Failures never reach a log with their username, token or address.
"""
from __future__ import annotations

import ipaddress
import math
import time
from datetime import datetime
from typing import Any, Callable

import anyio
import anyio.to_thread
from limits import parse
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api import auth
from api.roles import User
from store.auth_limits import SqlStorage

LOGIN, TOKEN = "login", "token"


class Throttled(Exception):
    """Too many failed checks for this account or address: refused before hashing."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_s / 60))


def client_address(request) -> str:
    """The client's address as the limits count it: IPv4 as is, IPv6 by /64 (one host holds a
    whole /64). Behind a reverse proxy, run uvicorn with --proxy-headers."""
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "?"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class AuthLimits:
    """Failed checks per account and per address, in the database (shared by every process)."""

    def __init__(self, engine: Engine, login_user: str, login_address: str, token_id: str, token_address: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.storage = SqlStorage(engine, clock)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._items = {LOGIN: (parse(login_user), parse(login_address)),
                       TOKEN: (parse(token_id), parse(token_address))}

    @classmethod
    def from_settings(cls, engine: Engine, settings: Any, clock: Callable[[], float] = time.time) -> "AuthLimits":
        return cls(engine, settings.login_limit_user, settings.login_limit_address, settings.token_limit_id,
                   settings.token_limit_address, clock)

    def _keys(self, kind: str, account: str | None, address: str):
        per_account, per_address = self._items[kind]
        if account:
            yield per_account, (kind, "account", account.casefold()[:200])
        yield per_address, (kind, "address", address)

    def retry_after(self, kind: str, account: str | None, address: str) -> int | None:
        """Seconds until a check of this account from this address is allowed again; None: now."""
        for item, ids in self._keys(kind, account, address):  # the account first, then the address
            stats = self.limiter.get_window_stats(item, *ids)
            if stats.remaining <= 0:
                return max(1, math.ceil(stats.reset_time - self.clock()))
        return None

    def failed(self, kind: str, account: str | None, address: str) -> None:
        for item, ids in self._keys(kind, account, address):
            self.limiter.hit(item, *ids)

    def succeeded(self, kind: str, account: str) -> None:
        """A success clears its own account's failures; the address's stand."""
        per_account, _ = self._items[kind]
        self.limiter.clear(per_account, kind, "account", account.casefold()[:200])


class CredentialGate:
    """Every check of a token or password the server makes (one per app: `gate(app)`)."""

    def __init__(self, engine: Engine, limits: AuthLimits, concurrency: int) -> None:
        self.engine, self.limits, self.concurrency = engine, limits, concurrency
        self._slots: anyio.CapacityLimiter | None = None
        self._flights: dict[str, anyio.Lock] = {}

    async def hashing(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn` (which may run argon2) in one of the `concurrency` argon2 threads; wait for a
        free one in the event loop."""
        if self._slots is None:
            self._slots = anyio.CapacityLimiter(self.concurrency)
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._slots)

    def _refuse_if_blocked(self, kind: str, account: str | None, address: str) -> None:
        wait = self.limits.retry_after(kind, account, address)
        if wait is not None:
            raise Throttled(wait)

    # ---------------------------------------------------------------- bearer tokens
    async def token_user(self, token: str, address: str) -> User | None:
        """The user of `token`, or None (invalid, revoked); raises Throttled."""
        hit = auth.remembered(token)
        if hit is not None:  # verified before: no argon2, but the row must still stand
            user = await run_in_threadpool(auth.current, self.engine, *hit)
            if user is not None:
                return user
            auth.forget(token)
        parts = auth.split(token)
        row = await run_in_threadpool(self._token_row, parts[0] if parts else None, address)
        if row is None:
            return None
        key = auth.token_key(token)
        flight = self._flights.setdefault(key, anyio.Lock())
        try:
            async with flight:
                hit = auth.remembered(token)  # verified by the request we waited for
                if hit is not None and hit == (row.id, row.token_hash):
                    return auth.user_of_row(row)
                return await self.hashing(self._check_token, token, row, parts[1], address)
        finally:
            if self._flights.get(key) is flight and not flight.locked() and not flight.statistics().tasks_waiting:
                del self._flights[key]

    def _token_row(self, token_id: str | None, address: str):
        """Before any hashing (a route thread): refused when blocked; an unknown, malformed or
        revoked token is a failure that costs no argon2."""
        self._refuse_if_blocked(TOKEN, token_id, address)
        row = auth.token_row(self.engine, token_id) if token_id else None
        if row is None:
            self.limits.failed(TOKEN, token_id, address)
        return row

    def _check_token(self, token: str, row, secret: str, address: str) -> User | None:
        self._refuse_if_blocked(TOKEN, row.token_id, address)  # failures recorded while we queued
        if not auth.secret_matches(row.token_hash, secret):
            self.limits.failed(TOKEN, row.token_id, address)
            return None
        auth.remember(token, row.id, row.token_hash)
        self.limits.succeeded(TOKEN, row.token_id)
        return auth.user_of_row(row)

    # ---------------------------------------------------------------- passwords
    async def login(self, username: str, password: str, address: str, now: datetime) -> tuple[User, str] | None:
        """(user, password hash) for the right password, or None; raises Throttled."""
        await run_in_threadpool(self._refuse_if_blocked, LOGIN, username, address)
        if not username or not password:
            await run_in_threadpool(self.limits.failed, LOGIN, username, address)
            return None
        return await self.hashing(self._check_login, username, password, address, now)

    def _check_login(self, username: str, password: str, address: str, now: datetime):
        self._refuse_if_blocked(LOGIN, username, address)
        found = auth.authenticate(self.engine, username, password, now)  # one argon2, known user or not
        if found is None:
            self.limits.failed(LOGIN, username, address)
        else:
            self.limits.succeeded(LOGIN, username)
        return found

    async def change_password(self, user: User, old: str, new: str, address: str, now: datetime,
                              min_length: int) -> str:
        """The new password hash; raises auth.UserError (French reason) or Throttled. A wrong
        current password counts as a failed check of this username."""
        await run_in_threadpool(self._refuse_if_blocked, LOGIN, user.username, address)
        return await self.hashing(self._change_password, user, old, new, address, now, min_length)

    def _change_password(self, user: User, old: str, new: str, address: str, now: datetime, min_length: int) -> str:
        self._refuse_if_blocked(LOGIN, user.username, address)
        try:
            return auth.change_password(self.engine, user.id, old, new, now, min_length)
        except auth.WrongPassword:
            self.limits.failed(LOGIN, user.username, address)
            raise


def gate(app) -> CredentialGate:
    """The app's gate, built on first use from the settings (tests set `app.state.credential_gate`)."""
    found = getattr(app.state, "credential_gate", None)
    if found is None:
        from config import get_settings

        settings = get_settings()
        found = app.state.credential_gate = CredentialGate(
            app.state.engine, AuthLimits.from_settings(app.state.engine, settings), settings.argon2_concurrency)
    return found
