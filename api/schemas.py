"""Request and response bodies. Bounds here keep impossible input out of the database: a NUL
byte, a 33-character agency id or an integer past 2^31 would otherwise reach PostgreSQL and
come back as a server error instead of a 422 naming the field."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from states.records import (
    ActionKind, ActionStatus, AttemptOutcome, Channel, Family, Held, OutcomeKind, RequirementStatus,
)

NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(max_length=2000, pattern=NO_NUL)]
ShortText = Annotated[str, Field(max_length=200, pattern=NO_NUL)]
Id32 = Annotated[int, Field(ge=1, le=2_147_483_647)]
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]

_EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _plausible(at: datetime) -> datetime:
    if at < _EARLIEST or at.year > 2200:
        raise ValueError("date hors de la plage plausible (2000-2200)")
    return at


When = Annotated[AwareDatetime, AfterValidator(_plausible)]
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2200, 12, 31))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- requests
class EventIn(Strict):
    reason: Text | None = Field(None, description="Motif (obligatoire pour classer sans suite)")


class ClientCorrection(Strict):
    """Only the fields sent are corrected; `null` clears a field."""

    last_name: ShortText | None = None
    first_name: ShortText | None = None
    company_name: ShortText | None = None
    address: ShortText | None = None
    postal_code: Annotated[str, Field(max_length=16, pattern=NO_NUL)] | None = None
    city: ShortText | None = None
    phone: Annotated[str, Field(max_length=40, pattern=NO_NUL)] | None = None
    email: Annotated[str, Field(max_length=254, pattern=NO_NUL)] | None = None
    marital_status: ShortText | None = None
    professional_status: ShortText | None = None
    siret: Annotated[str, Field(max_length=32, pattern=NO_NUL)] | None = None
    naf_code: Annotated[str, Field(max_length=16, pattern=NO_NUL)] | None = None
    activity: ShortText | None = None
    turnover_eur: Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"), decimal_places=2)] | None = None
    headcount: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    insurance_contact: ShortText | None = None
    housing_status: Annotated[str, Field(max_length=16, pattern=NO_NUL)] | None = None
    opposition_phone: bool | None = None
    opposition_email: bool | None = None
    opposition_letter: bool | None = None
    reason: Text | None = Field(None, description="Pourquoi la correction (journal d'audit)")


class AssignmentIn(Strict):
    agency_id: Annotated[str, Field(min_length=1, max_length=32, pattern=NO_NUL)]
    advisor_id: Id32


class AttemptIn(Strict):
    channel: Channel
    outcome: AttemptOutcome
    at: When | None = Field(None, description="Heure de la tentative (défaut : maintenant)")
    advisor_id: Id32 | None = Field(None, description="Défaut : le conseiller de l'utilisateur")


class RequirementIn(Strict):
    status: RequirementStatus
    waiver_reason: Text | None = None


class InventoryIn(Strict):
    family: Family
    product: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
    held: Held
    insurer: ShortText | None = None
    renewal_date: Day | None = None


class NothingElsewhereIn(Strict):
    value: bool = True


class OutcomeIn(Strict):
    kind: OutcomeKind
    detail: Text | None = Field(None, description="Jamais de détail de santé (RGPD art. 9)")


class ActionIn(Strict):
    kind: ActionKind
    owner_id: Id32 | None = Field(None, description="Défaut : le conseiller de l'utilisateur")
    due_date: Day | None = None
    label: ShortText | None = None


class ActionPatch(Strict):
    status: ActionStatus | None = Field(None, description="done = terminée, cancelled = annulée")
    owner_id: Id32 | None = None
    due_date: Day | None = Field(None, description="Nouvelle échéance (replanifier)")


class ReassignIn(Strict):
    advisor_id: Id32
    reason: Text | None = None


class BulkItem(Strict):
    case_id: Id32
    version: Annotated[int, Field(ge=1, le=2_147_483_647)]
    advisor_id: Id32


class BulkReassignIn(Strict):
    items: Annotated[list[BulkItem], Field(min_length=1, max_length=500)]
    reason: Text | None = None


class SessionIn(Strict):
    token: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]


# ---------------------------------------------------------------- responses
class ChangeOut(BaseModel):
    case_id: int
    state: str
    state_label: str
    version: int
    audit_seq: int
    action: str
    changes: dict[str, Any]


class BulkResult(BaseModel):
    case_id: int
    status: int = Field(description="Le statut HTTP qu'aurait eu la réassignation seule")
    version: int | None = None
    problem: dict[str, Any] | None = None


class BulkOut(BaseModel):
    ok: int
    failed: int
    results: list[BulkResult]


class MeOut(BaseModel):
    username: str
    role: str
    agency_id: str | None
    advisor_id: int | None
    permissions: list[str]


class CaseSummary(BaseModel):
    id: int
    client_id: str
    client_name: str
    client_kind: str
    agency_id: str
    cohort_month: str
    due_date: date
    window_start: date
    window_end: date
    state: str
    state_label: str
    assigned_advisor_id: int | None
    advisor_name: str | None
    priority: int
    late: bool
    overdue: bool
    escalation_step: int
    version: int


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    per_page: int
