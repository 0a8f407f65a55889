"""Roles and what each may do: one table, read by the routes and by the scoping test.

advisor     the cases of their agency: read and work them
manager     all cases of their agency, reassignment, statistics, exports of their agency
compliance  read-only, every agency, audit trails and right-of-access exports
admin       everything

Agency scoping: advisors and managers see only cases (and clients) of their own agency. A case
of another agency answers 404, not 403, so its existence is not leaked.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADVISOR = "advisor"
    MANAGER = "manager"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


_ALL = frozenset(Role)
PERMISSIONS: dict[str, frozenset[Role]] = {
    "cases.read": _ALL,
    "cases.write": frozenset({Role.ADVISOR, Role.MANAGER, Role.ADMIN}),
    "cases.reassign": frozenset({Role.MANAGER, Role.ADMIN}),
    "audit.read": _ALL,
    "audit.export": frozenset({Role.MANAGER, Role.COMPLIANCE, Role.ADMIN}),
    "clients.export": frozenset({Role.MANAGER, Role.COMPLIANCE, Role.ADMIN}),
    "stats.read": frozenset({Role.MANAGER, Role.ADMIN}),
    # The manager's and compliance pages (docs/pages.md)
    "letters.post": frozenset({Role.MANAGER, Role.ADMIN}),
    "crm.import": frozenset({Role.MANAGER, Role.ADMIN}),
    "corrections.export": frozenset({Role.MANAGER, Role.ADMIN}),
    "advisors.manage": frozenset({Role.MANAGER, Role.ADMIN}),
    "compliance.read": frozenset({Role.COMPLIANCE, Role.ADMIN}),
    "access_requests.manage": frozenset({Role.COMPLIANCE, Role.ADMIN}),
}
# Roles that see every agency; the others see only their own.
ALL_AGENCIES = frozenset({Role.COMPLIANCE, Role.ADMIN})
# Roles that must belong to an agency.
AGENCY_ROLES = frozenset({Role.ADVISOR, Role.MANAGER})


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    agency_id: str | None
    advisor_id: int | None

    @property
    def actor(self) -> str:
        """How the audit trail names this user."""
        return f"user:{self.username}"

    @property
    def scope(self) -> str | None:
        """The only agency this user may see, or None for every agency."""
        return None if self.role in ALL_AGENCIES else self.agency_id

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    def sees(self, agency_id: str | None) -> bool:
        return self.scope is None or (agency_id is not None and agency_id == self.scope)
