"""Shared set-up of the credential-check tests: a clock for the rate limits that the test moves
(epoch seconds: the limits never read the app's clock), and a gate with chosen limits."""
from __future__ import annotations

from api.credentials import AuthLimits, CredentialGate


class Ticker:
    """The limits' wall clock, moved by the test."""

    def __init__(self, t: float = 1_776_241_800.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def install_gate(app, engine, clock: Ticker, *, login_user: str = "5 per 5 minutes",
                 login_address: str = "50 per 5 minutes", token_id: str = "10 per 5 minutes",
                 token_address: str = "100 per 5 minutes", concurrency: int = 2) -> CredentialGate:
    gate = CredentialGate(engine, AuthLimits(engine, login_user, login_address, token_id, token_address, clock),
                          concurrency)
    app.state.credential_gate = gate
    return gate
