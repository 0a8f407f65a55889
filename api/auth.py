"""Bearer tokens: `m3_<token_id>.<secret>`. The token id is public (the lookup key); only an
argon2 hash of the secret is stored, so a copy of the database gives no working token.

Why a cache of verified tokens: argon2 is slow on purpose (~50 ms and 64 MiB per verify here),
which is what makes a stolen hash expensive to attack, but paying it on every request would cap
the API at ~20 requests per second per core. A successful verification is kept in memory for
CACHE_TTL_S, keyed by sha256(token) (the token itself is not kept), so a revoked user is
refused at most CACHE_TTL_S later in any running server. Failures are never cached.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, insert, select, update

from api.roles import AGENCY_ROLES, Role, User
from store.tables import Advisor, Agency, AppUser

USER = AppUser.__table__
ADVISOR = Advisor.__table__
AGENCY = Agency.__table__
PREFIX = "m3_"
CACHE_TTL_S = 60.0

_hasher = PasswordHasher()
_cache: dict[str, tuple[User, float, str]] = {}  # sha256(token) -> (user, valid until, hash verified)
_flights: dict[str, threading.Lock] = {}  # sha256(token) -> lock of the verification under way
_lock = threading.Lock()


class UserError(ValueError):
    """A user that cannot be created as asked (unknown advisor, missing agency...)."""


def new_token() -> tuple[str, str]:
    """(token_id, full token). The full token is shown once and never stored."""
    token_id = secrets.token_hex(8)
    return token_id, f"{PREFIX}{token_id}.{secrets.token_urlsafe(32)}"


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX) or "." not in token or len(token) > 200:
        return None
    token_id, _, secret = token[len(PREFIX):].partition(".")
    return (token_id, secret) if token_id and secret else None


def _user(row) -> User:
    return User(row.id, row.username, Role(row.role), row.agency_id, row.advisor_id)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cached(token: str) -> User | None:
    """The user of an already verified token, without touching the database (fast path)."""
    hit = _cache.get(_key(token))
    if hit and hit[1] > time.monotonic():
        return hit[0]
    return None


def verify(engine: Engine, token: str) -> User | None:
    """The active user holding `token`, or None. Slow (argon2) unless cached.

    Two things keep an expiring cache entry from stalling the server (seen in bench/bench_api.py:
    every CACHE_TTL_S, the 32 in-flight requests of one client all missed the cache at once and
    ran 32 argon2 verifications, ~2 s during which nothing else moved):
    - one verification per token at a time: concurrent requests with the same token wait for it
      and take its result;
    - an expired entry is renewed by reading the user's row, not by argon2 again, when the row
      still holds the hash this exact token was verified against (argon2 would say the same).
      Revocation still applies within CACHE_TTL_S: the row must still be active.
    """
    user = cached(token)
    if user:
        return user
    parts = _split(token)
    if parts is None:
        return None
    key = _key(token)
    with _lock:
        if len(_flights) > 10_000:
            _flights.clear()
        flight = _flights.setdefault(key, threading.Lock())
    try:
        with flight:
            user = cached(token)  # verified while we waited
            if user:
                return user
            return _verify(engine, key, *parts)
    finally:
        with _lock:
            if _flights.get(key) is flight and not flight.locked():
                del _flights[key]


def _verify(engine: Engine, key: str, token_id: str, secret: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(USER).where(USER.c.token_id == token_id, USER.c.active.is_(True))).first()
    if row is None:
        return None
    stale = _cache.get(key)
    if stale is None or stale[2] != row.token_hash:
        try:
            _hasher.verify(row.token_hash, secret)
        except (VerificationError, InvalidHashError):
            return None
    user = _user(row)
    with _lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = (user, time.monotonic() + CACHE_TTL_S, row.token_hash)
    return user


def user_by_id(engine: Engine, user_id: int) -> User | None:
    """An active user by id (sessions carry the id, not the token)."""
    with engine.connect() as conn:
        row = conn.execute(select(USER).where(USER.c.id == user_id, USER.c.active.is_(True))).first()
    return _user(row) if row else None


def forget_all() -> None:
    """Empty the verification cache (tests; after a revocation in this process)."""
    with _lock:
        _cache.clear()


def resolve_advisor(conn: Connection, advisor_id: int | None, advisor_name: str | None) -> tuple[int, str] | None:
    """(advisor id, agency) from an id or an exact name, or None if neither was given."""
    if advisor_id is None and not advisor_name:
        return None
    cond = ADVISOR.c.id == advisor_id if advisor_id is not None else ADVISOR.c.name == advisor_name
    row = conn.execute(select(ADVISOR.c.id, ADVISOR.c.agency_id).where(cond)).first()
    if row is None:
        raise UserError(f"conseiller introuvable : {advisor_id if advisor_id is not None else advisor_name}")
    return row.id, row.agency_id


def create_user(conn: Connection, username: str, role: Role, agency_id: str | None, now: datetime,
                advisor_id: int | None = None, advisor_name: str | None = None) -> tuple[int, str]:
    """Create a user; return (id, token). The token is not recoverable afterwards."""
    adv = resolve_advisor(conn, advisor_id, advisor_name)
    if adv is not None:
        if agency_id is not None and agency_id != adv[1]:
            raise UserError(f"le conseiller appartient à l'agence {adv[1]}, pas à {agency_id}")
        agency_id = agency_id or adv[1]
    if role in AGENCY_ROLES and not agency_id:
        raise UserError(f"le rôle {role.value} exige une agence (--agency)")
    if agency_id and conn.execute(select(AGENCY.c.id).where(AGENCY.c.id == agency_id)).first() is None:
        raise UserError(f"agence inconnue : {agency_id}")
    if role is Role.ADVISOR and adv is None:
        raise UserError("un utilisateur conseiller doit être relié à un conseiller (--advisor-id ou --advisor-name)")
    if conn.execute(select(USER.c.id).where(USER.c.username == username)).first():
        raise UserError(f"l'utilisateur {username} existe déjà")
    token_id, token = new_token()
    _, secret = _split(token)
    user_id = conn.execute(insert(USER).values(
        username=username, role=role.value, agency_id=agency_id, advisor_id=adv[0] if adv else None,
        token_id=token_id, token_hash=_hasher.hash(secret), active=True, created_at=now,
    ).returning(USER.c.id)).scalar_one()
    return user_id, token


def revoke(conn: Connection, username: str) -> bool:
    res = conn.execute(update(USER).where(USER.c.username == username).values(active=False))
    forget_all()
    return res.rowcount == 1


# ---------------------------------------------------------------- passwords (the pages' login)
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a bound keeps a login from costing megabytes
_DUMMY_HASH: str | None = None  # verified against when the username is unknown: same cost, no enumeration


def check_password_rules(password: str, min_length: int) -> None:
    """Raise UserError (French) when `password` may not be used."""
    if len(password) < min_length:
        raise UserError(f"mot de passe trop court : {min_length} caractères au moins")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"mot de passe trop long : {MAX_PASSWORD_LENGTH} caractères au plus")
    if not password.strip():
        raise UserError("mot de passe vide")


def set_password(conn: Connection, username: str, password: str, now: datetime, min_length: int) -> None:
    """Give `username` a password (argon2 hash stored); every session opened before ends."""
    check_password_rules(password, min_length)
    res = conn.execute(update(USER).where(USER.c.username == username).values(
        password_hash=_hasher.hash(password), password_changed_at=now))
    if res.rowcount != 1:
        raise UserError(f"utilisateur inconnu : {username}")


def _verify_password(stored: str | None, password: str) -> bool:
    global _DUMMY_HASH
    if stored is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
        stored, password = _DUMMY_HASH, password + "\x00"  # never matches, costs the same
    try:
        return _hasher.verify(stored, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return False


def authenticate(engine: Engine, username: str, password: str, now: datetime) -> tuple[User, str] | None:
    """(user, password hash) for an active user with this password, or None (always one argon2 verify)."""
    with engine.connect() as conn:
        row = conn.execute(select(USER).where(USER.c.username == username[:100], USER.c.active.is_(True))).first()
    stored = row.password_hash if row is not None else None
    if not _verify_password(stored, password) or row is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):  # argon2 parameters raised since: upgrade the hash now
        new = _hasher.hash(password)
        with engine.begin() as conn:
            conn.execute(update(USER).where(USER.c.id == row.id, USER.c.password_hash == stored)
                         .values(password_hash=new))
        stored = new
    return _user(row), stored


def change_password(engine: Engine, user_id: int, old: str, new: str, now: datetime, min_length: int) -> str:
    """Replace the user's password after checking the old one; return the new hash (the caller's
    session is re-opened on it, the others end). Raises UserError with the reason, in French."""
    with engine.connect() as conn:
        row = conn.execute(select(USER).where(USER.c.id == user_id, USER.c.active.is_(True))).first()
    if row is None:
        raise UserError("utilisateur inconnu ou désactivé")
    if row.password_hash is None or not _verify_password(row.password_hash, old):
        raise UserError("mot de passe actuel incorrect")
    if old == new:
        raise UserError("le nouveau mot de passe doit être différent de l'actuel")
    check_password_rules(new, min_length)
    hashed = _hasher.hash(new)
    with engine.begin() as conn:
        conn.execute(update(USER).where(USER.c.id == user_id).values(password_hash=hashed, password_changed_at=now))
    return hashed


def session_user(engine: Engine, user_id: int, fp: str | None) -> User | None:
    """The active user of a session, if the credential it was opened with still stands."""
    from api.sessions import fingerprint

    with engine.connect() as conn:
        row = conn.execute(select(USER).where(USER.c.id == user_id, USER.c.active.is_(True))).first()
    if row is None or fp not in {fingerprint(h) for h in (row.password_hash, row.token_hash) if h}:
        return None
    return _user(row)


def token_hash_of(engine: Engine, user_id: int) -> str | None:
    """The stored token hash (a session opened with the token is bound to it)."""
    with engine.connect() as conn:
        return conn.execute(select(USER.c.token_hash).where(USER.c.id == user_id)).scalar_one_or_none()
