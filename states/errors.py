"""Why a change is refused. Each error says what and where; the API maps them to one shape."""
from __future__ import annotations

from dataclasses import dataclass

from states.lifecycle import DomainError, EventNotAllowed

__all__ = ["DomainError", "EventNotAllowed", "GuardFailed", "InvalidChange", "CallingRulesViolation", "Unmet"]


@dataclass(frozen=True)
class Unmet:
    code: str  # stable name of the requirement, e.g. "phone" or "C123.carte_grise"
    message: str  # in French, for the advisor


class GuardFailed(DomainError):
    def __init__(self, event: str, unmet: list[Unmet]) -> None:
        self.event, self.unmet = event, unmet
        super().__init__(f"'{event}' nécessite : " + "; ".join(f"{u.code}: {u.message}" for u in unmet))


class InvalidChange(DomainError):
    """A payload the domain cannot apply: field -> reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class CallingRulesViolation(DomainError):
    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("appel non autorisé : " + "; ".join(reasons))
