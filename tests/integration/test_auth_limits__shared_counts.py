"""The failed-check counts behind the rate limits (store/auth_limits.py, api/credentials.py):
kept in the database, so two server processes see the same counts; a moving window, so a
locked-out user gets in again once the oldest failure leaves it. On SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from api.credentials import LOGIN, TOKEN, AuthLimits
from store.db import make_engine
from store.tables import AuthFailure
from tests.integration.credentials_support import Ticker


def _limits(engine, clock, **kw) -> AuthLimits:
    args = dict(login_user="3 per 1 minute", login_address="5 per 1 minute", token_id="3 per 1 minute",
                token_address="5 per 1 minute")
    args.update(kw)
    return AuthLimits(engine, args["login_user"], args["login_address"], args["token_id"], args["token_address"], clock)


def test_auth_limits__failures_slide_out_of_the_window(engine):
    clock = Ticker()
    limits = _limits(engine, clock)
    for _ in range(3):
        assert limits.retry_after(LOGIN, "marie", "10.0.0.1") is None
        limits.failed(LOGIN, "marie", "10.0.0.1")
        clock.advance(10)
    # failures at t, t+10, t+20; now t+30: blocked until the first leaves the window (t+60)
    assert limits.retry_after(LOGIN, "marie", "10.0.0.1") == 30
    assert limits.retry_after(LOGIN, "MARIE", "10.0.0.9") == 30  # per username (any case), from anywhere
    clock.advance(29)
    assert limits.retry_after(LOGIN, "marie", "10.0.0.1") == 1
    clock.advance(1.5)
    assert limits.retry_after(LOGIN, "marie", "10.0.0.1") is None  # one more try allowed
    limits.failed(LOGIN, "marie", "10.0.0.1")
    assert limits.retry_after(LOGIN, "marie", "10.0.0.1") == 10  # now t+60.5; the t+10 failure leaves at t+70


def test_auth_limits__two_server_processes_share_the_counts(engine):
    clock = Ticker()
    url = engine.url.render_as_string(hide_password=False)
    other_engine = make_engine(url)  # another process: its own engine, its own memory
    try:
        here, there = _limits(engine, clock), _limits(other_engine, clock)
        for _ in range(3):
            here.failed(TOKEN, "abcd", "10.0.0.1")
        assert there.retry_after(TOKEN, "abcd", "10.0.0.2") == 60
        assert there.retry_after(TOKEN, "other", "10.0.0.2") is None
    finally:
        other_engine.dispose()


def test_auth_limits__per_address_counts_every_account(engine):
    clock = Ticker()
    limits = _limits(engine, clock)
    for name in ("a", "b", "c", "d", "e"):
        limits.failed(LOGIN, name, "10.0.0.1")
    assert limits.retry_after(LOGIN, "paul", "10.0.0.1") == 60
    assert limits.retry_after(LOGIN, "paul", "10.0.0.2") is None
    assert limits.retry_after(TOKEN, "abcd", "10.0.0.1") is None  # tokens keep their own counts


def test_auth_limits__a_success_clears_its_account_but_not_the_address(engine):
    clock = Ticker()
    limits = _limits(engine, clock)
    for name in ("marie", "marie", "b", "c"):
        limits.failed(LOGIN, name, "10.0.0.1")
    limits.succeeded(LOGIN, "marie")
    assert limits.retry_after(LOGIN, "marie", "10.0.0.9") is None
    limits.failed(LOGIN, "d", "10.0.0.1")  # 5 failures from the address: the success took none away
    assert limits.retry_after(LOGIN, "paul", "10.0.0.1") == 60


def test_auth_limits__the_table_holds_no_username_or_address_in_clear(engine):
    limits = _limits(engine, Ticker())
    limits.failed(LOGIN, "marie.dupont", "192.168.12.34")
    with engine.connect() as conn:
        keys = conn.execute(select(AuthFailure.__table__.c.key)).scalars().all()
    assert len(keys) == 2 and all(len(k) == 64 for k in keys)
    assert not any("marie" in k or "192.168" in k for k in keys)


def test_auth_limits__expired_rows_are_deleted_as_the_key_is_hit(engine):
    clock = Ticker()
    limits = _limits(engine, clock)
    for _ in range(3):
        limits.failed(TOKEN, "abcd", "10.0.0.1")
    clock.advance(120)
    limits.failed(TOKEN, "abcd", "10.0.0.1")
    with engine.connect() as conn:
        n = conn.execute(select(AuthFailure.__table__.c.id)).all()
    assert len(n) == 2  # the new failure, once per key (token id, address); the old ones are gone
