"""Bearer tokens: `m3_<token_id>.<secret>`. The token id is public (the lookup key); only an
argon2 hash of the secret is stored, so a copy of the database gives no working token.

Why a cache of verified tokens: argon2 is slow on purpose (~50 ms and 64 MiB per verify here),
which is what makes a stolen hash expensive to attack, but paying it on every request would cap
the API at ~20 requests per second per core. A successful verification is remembered in memory,
keyed by sha256(token) (the token itself is not kept), as (user id, the hash it was verified
against). What the cache saves is the argon2, never the database's word: every request reads
the user's row by primary key (`current`), and the token stands only while the row is active
and still holds that very hash. So a revocation (`m3 user revoke`, another server process,
another machine) refuses the token at its next request, and a role or agency change applies at
once too. Failures are never cached.

The server does not call `verify`: it goes through api/credentials.py, which adds the shared rate
limits, the bound on concurrent argon2 checks and single-flight verification. `verify` is the
same check without them, for the command line and tests.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from api.roles import AGENCY_ROLES, Role, User
from store.db import one_statement_reads
from store.tables import Advisor, Agency, AppUser

USER = AppUser.__table__
ADVISOR = Advisor.__table__
AGENCY = Agency.__table__
PREFIX = "m3_"
CACHE_MAX = 10_000  # verified tokens remembered; only a successful verification adds one

_hasher = PasswordHasher()
_cache: dict[str, tuple[int, str]] = {}  # sha256(token) -> (user id, token hash it was verified against)
_lock = threading.Lock()


class UserError(ValueError):
    """A user that cannot be created as asked (unknown advisor, missing agency...)."""


class WrongPassword(UserError):
    """The current password given to change it is not the user's (a failed password check)."""


def new_token() -> tuple[str, str]:
    """(token_id, full token). The full token is shown once and never stored."""
    token_id = secrets.token_hex(8)
    return token_id, f"{PREFIX}{token_id}.{secrets.token_urlsafe(32)}"


def split(token: str) -> tuple[str, str] | None:
    """(token id, secret) of a well-formed token, else None."""
    if not token.startswith(PREFIX) or "." not in token or len(token) > 200:
        return None
    token_id, _, secret = token[len(PREFIX):].partition(".")
    return (token_id, secret) if token_id and secret and len(token_id) <= 32 else None


_split = split


def _user(row) -> User:
    return User(row.id, row.username, Role(row.role), row.agency_id, row.advisor_id)


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def remembered(token: str) -> tuple[int, str] | None:
    """(user id, token hash) of an already verified token, without touching the database."""
    return _cache.get(token_key(token))


def remember(token: str, user_id: int, token_hash: str) -> None:
    with _lock:
        if len(_cache) >= CACHE_MAX:
            _cache.clear()
        _cache[token_key(token)] = (user_id, token_hash)


def forget(token: str) -> None:
    with _lock:
        _cache.pop(token_key(token), None)


def forget_all() -> None:
    """Empty the verification cache (tests). Revocation needs no call: `current` reads the row."""
    with _lock:
        _cache.clear()


# Built once: it runs on every request with a token (building and caching a statement per call
# costs as much again as the round trip on SQLite).
_CURRENT = select(USER.c.id, USER.c.username, USER.c.role, USER.c.agency_id, USER.c.advisor_id, USER.c.active,
                  USER.c.token_hash).where(USER.c.id == bindparam("user_id"))


def current(engine: Engine, user_id: int, token_hash: str) -> User | None:
    """The user of a verified token if the row still stands (active, same token hash): one
    primary-key read, on every request (one round trip on PostgreSQL: store.db.one_statement_reads)."""
    with one_statement_reads(engine).connect() as conn:
        row = conn.execute(_CURRENT, {"user_id": user_id}).first()
    if row is None or not row.active or row.token_hash != token_hash:
        return None
    return _user(row)


def token_row(engine: Engine, token_id: str):
    """The active user row holding `token_id`, or None."""
    with engine.connect() as conn:
        return conn.execute(select(USER).where(USER.c.token_id == token_id, USER.c.active.is_(True))).first()


def secret_matches(token_hash: str, secret: str) -> bool:
    """One argon2 verification (slow on purpose): the server runs it in api/credentials.py's slots."""
    try:
        return _hasher.verify(token_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def user_of_row(row) -> User:
    return _user(row)


def verify(engine: Engine, token: str) -> User | None:
    """The active user holding `token`, or None; argon2 unless already verified. No rate limit,
    no bound: for the command line and tests (the server uses api/credentials.py)."""
    hit = remembered(token)
    if hit is not None:
        user = current(engine, *hit)
        if user is not None:
            return user
        forget(token)
    parts = split(token)
    if parts is None:
        return None
    row = token_row(engine, parts[0])
    if row is None or not secret_matches(row.token_hash, parts[1]):
        return None
    remember(token, row.id, row.token_hash)
    return _user(row)


def user_by_id(engine: Engine, user_id: int) -> User | None:
    """An active user by id (sessions carry the id, not the token)."""
    with engine.connect() as conn:
        row = conn.execute(select(USER).where(USER.c.id == user_id, USER.c.active.is_(True))).first()
    return _user(row) if row else None


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
    """Deactivate the user: every server process refuses its token and ends its sessions at
    their next request (each request reads the row). Nothing to evict: see `current`."""
    res = conn.execute(update(USER).where(USER.c.username == username).values(active=False))
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
        raise WrongPassword("mot de passe actuel incorrect")
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
