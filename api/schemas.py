"""Request and response bodies. Bounds here keep impossible input out of the database: a NUL
byte, a 33-character agency id or an integer past 2^31 would otherwise reach PostgreSQL and
come back as a server error instead of a 422 naming the field."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from states.records import (
    ActionKind, ActionStatus, AttemptOutcome, Channel, Family, Held, OutcomeKind, RequirementStatus,
)
from states.records import AppointmentChannel, CallBasis, Direction
from states.records import ClientDecision, DevisStatus
from states.people import CLIENT_TEXT_LIMITS

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


# Fields printed on letters: the same bounds as the CRM import (states.people.CLIENT_TEXT_LIMITS).
def _printed(name: str):
    return Annotated[str, Field(max_length=CLIENT_TEXT_LIMITS[name], pattern=NO_NUL)]


PrintedLastName, PrintedFirstName, PrintedCompanyName = _printed("last_name"), _printed("first_name"), \
    _printed("company_name")
PrintedAddress, PrintedCity, PrintedInsuranceContact = _printed("address"), _printed("city"), \
    _printed("insurance_contact")


class ClientCorrection(Strict):
    """Only the fields sent are corrected; `null` clears a field."""

    last_name: PrintedLastName | None = None
    first_name: PrintedFirstName | None = None
    company_name: PrintedCompanyName | None = None
    address: PrintedAddress | None = None
    postal_code: Annotated[str, Field(max_length=16, pattern=NO_NUL)] | None = None
    city: PrintedCity | None = None
    phone: Annotated[str, Field(max_length=40, pattern=NO_NUL)] | None = None
    email: Annotated[str, Field(max_length=254, pattern=NO_NUL)] | None = None
    marital_status: ShortText | None = None
    professional_status: ShortText | None = None
    siret: Annotated[str, Field(max_length=32, pattern=NO_NUL)] | None = None
    naf_code: Annotated[str, Field(max_length=16, pattern=NO_NUL)] | None = None
    activity: ShortText | None = None
    turnover_eur: Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"), decimal_places=2)] | None = None
    headcount: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    insurance_contact: PrintedInsuranceContact | None = None
    housing_status: Annotated[str, Field(max_length=32, pattern=NO_NUL)] | None = Field(
        None, description="owner (propriétaire), tenant (locataire) ou hosted (hébergé) ; null : à demander")
    children_at_home: Annotated[int, Field(ge=0, le=30)] | None = Field(None, description="Enfants au foyer")
    vehicles: Annotated[int, Field(ge=0, le=10_000)] | None = Field(None, description="Véhicules du foyer ou de l'entreprise")
    cadres: Annotated[int, Field(ge=0, le=10_000_000)] | None = Field(None, description="Cadres de l'entreprise")
    opposition_phone: bool | None = None
    opposition_email: bool | None = None
    opposition_letter: bool | None = None
    civility: Annotated[str, Field(max_length=16, pattern=NO_NUL)] | None = Field(
        None, description="M. ou Mme ; null : inconnue (les courriers commencent alors par « Madame, Monsieur »)")
    reason: Text | None = Field(None, description="Pourquoi la correction (journal d'audit)")


class AssignmentIn(Strict):
    agency_id: Annotated[str, Field(min_length=1, max_length=32, pattern=NO_NUL)]
    advisor_id: Id32


class AttemptIn(Strict):
    channel: Channel
    outcome: AttemptOutcome
    at: When | None = Field(None, description="Heure de la tentative (défaut : maintenant)")
    advisor_id: Id32 | None = Field(None, description="Défaut : le conseiller de l'utilisateur")
    direction: Direction | None = Field(
        None, description="outbound (l'agence appelle, défaut) ou inbound (le client appelle : jamais restreint) ; "
                          "un email ou courrier se déduit du résultat")
    basis: CallBasis | None = Field(
        None, description="Appel sortant : solicitation (défaut, règles D223-9) ou appointment (rendez-vous accepté "
                          "par le client, à l'heure près de la tolérance)")
    appointment_id: Id32 | None = Field(None, description="Le rendez-vous de l'appel (basis = appointment)")


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
    detail: Text | None = Field(None, description="Jamais de détail de santé (RGPD art. 9). Obligatoire pour un "
                                                  "besoin complémentaire qui ne vient pas d'une suggestion")
    client_decision: ClientDecision | None = Field(None, description="accepted, refused, to_think (besoin, "
                                                                     "changement de situation)")
    suggestion_code: Key | None = Field(None, description="Le besoin vient de cette suggestion (elle est retenue)")
    answer: Text | None = Field(None, description="Obligatoire pour une question technique")
    topic_id: Id32 | None = Field(None, description="La question du client à laquelle répond la question technique")
    action_id: Id32 | None = Field(None, description="Le devis d'un besoin, l'avenant d'un changement de situation")
    correction_seq: Id32 | None = Field(None, description="N° du journal de la correction de la fiche (changement "
                                                          "de situation)")


class OutcomePatch(Strict):
    client_decision: ClientDecision | None = None
    detail: Text | None = None
    answer: Text | None = None
    topic_id: Id32 | None = None
    action_id: Id32 | None = None
    correction_seq: Id32 | None = None


class ActionIn(Strict):
    kind: ActionKind
    owner_id: Id32 | None = Field(None, description="Défaut : le conseiller de l'utilisateur (obligatoire sinon) ; "
                                                    "un chargé de clientèle actif de l'agence du dossier")
    due_date: Day = Field(description="Échéance (obligatoire)")
    label: ShortText | None = None
    outcome_id: Id32 | None = Field(None, description="Le résultat du bilan auquel l'action répond")


class ActionPatch(Strict):
    status: ActionStatus | None = Field(None, description="done = terminée, cancelled = annulée")
    owner_id: Id32 | None = None
    due_date: Day | None = Field(None, description="Nouvelle échéance (replanifier)")
    devis_status: DevisStatus | None = Field(None, description="Devis : propose, envoye, signe, refuse (signé ou "
                                                               "refusé termine l'action)")


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
    late: bool = Field(description="En retard : ouvert, client non joint, fenêtre de contact dépassée")
    overdue: bool = Field(description="Ancien nom de `late` (même valeur)")
    caught_up: bool = Field(False, description="Rattrapé : ouvert par le rattrapage du mois précédent")
    escalation_step: int
    version: int
    window_open: bool = Field(True, description="Fenêtre de contact ouverte (faux : dossier ouvert en avance, "
                                                "à appeler à partir de window_opens_on)")
    window_opens_on: date | None = Field(None, description="Premier jour de la fenêtre de contact")


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    per_page: int


# ---------------------------------------------------------------- appointments (api/routes/appointments.py)
class AppointmentIn(Strict):
    at: When = Field(description="Date et heure du rendez-vous (avec fuseau ; affichées à l'heure du client)")
    channel: AppointmentChannel = Field(description="phone (téléphone), agency (à l'agence), video (visioconférence)")
    client_agreed: bool = Field(description="Le client a accepté ce rendez-vous (obligatoire : preuve du "
                                            "consentement qui lève les plages horaires D223-9)")
    advisor_id: Id32 | None = Field(None, description="Défaut : le conseiller de l'utilisateur, sinon celui du dossier")


class AppointmentPatch(Strict):
    at: When | None = Field(None, description="Nouvelle date et heure")
    channel: AppointmentChannel | None = None
    advisor_id: Id32 | None = None
    reason: Text | None = Field(None, description="Pourquoi le déplacement (journal d'audit)")


class AppointmentCancelIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_NUL)] = Field(
        description="Motif de l'annulation (obligatoire, journal d'audit ; pas envoyé au client)")


class AppointmentOut(BaseModel):
    id: int
    at: datetime
    client_time: str = Field(description="Date et heure chez le client, ex. « samedi 21/11/2026 08:30 »")
    timezone: str
    channel: str
    channel_label: str
    status: str = Field(description="scheduled, done, cancelled, ou missed (dérivé : passé sans appel)")
    status_label: str
    advisor_id: int | None
    advisor_name: str | None
    client_agreed: bool
    cancel_reason: str | None = None


# ---------------------------------------------------------------- notes, claims and questions
NoteText = Annotated[str, Field(min_length=1, max_length=100_000, pattern=NO_NUL,
                                description="Aucune donnée de santé (RGPD art. 9). Longueur maximale : M3_NOTE_MAX_CHARS")]


class NoteIn(Strict):
    text: NoteText


class TopicIn(Strict):
    kind: Literal["sinistre", "question"] = Field(description="sinistre ou question depuis la souscription")
    occurred_on: Day | None = Field(None, description="Date du sinistre ou de la question (défaut : aujourd'hui)")
    summary: NoteText
    answer: NoteText | None = Field(None, description="Réponse déjà donnée (l'entrée est alors « répondue »)")


class TopicAnswerIn(Strict):
    answer: NoteText


# ---------------------------------------------------------------- the bilan (api/routes/bilan.py)
class DevisIn(Strict):
    owner_id: Id32 | None = Field(None, description="Défaut : le chargé de clientèle du dossier")
    due_date: Day | None = Field(None, description="Défaut : dans 7 jours")
    label: ShortText | None = None


class AcceptIn(Strict):
    detail: Text | None = Field(None, description="Le besoin (défaut : le produit et le motif de la suggestion)")
    client_decision: ClientDecision | None = None
    create_devis: DevisIn | None = Field(None, description="Planifier le devis dans la même écriture ; sans lui, "
                                                           "la réponse propose `devis_proposal`")


class DismissIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_NUL)] = Field(
        description="Pourquoi la suggestion est écartée (obligatoire)")


class SendBilanIn(Strict):
    to: Annotated[str, Field(max_length=254, pattern=NO_NUL)] | None = Field(
        None, description="Défaut : l'email du client")
