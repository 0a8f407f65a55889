"""Advisors from the command line (and, later, the managers' pages): list, add, move, (de)activate.

An advisor is never deleted: cases, contracts and the audit trail refer to it. Deactivating one
who still has open cases asks where they go (`deactivate`): to one named advisor, or spread over
the active advisors of each case's agency (least loaded first, store.assignment). Each case is
reassigned through the write path (a `Reassign` command, audited on the case), in the same
transaction as the deactivation: all of it happens, or none.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import Connection, func, insert, select, update

from states.commands import Reassign
from states.errors import DomainError
from states.people import ADVISOR_NAME_LIMIT, ADVISOR_TITLE_LIMIT, advisor_display_name, split_full_name
from store.advisor_directory import name_key
from store.assignment import AdvisorPool
from store.snapshot import CASE
from store.tables import Advisor, Agency, Client
from store.write_path import execute_in

_T = Advisor.__table__


class AdvisorError(ValueError):
    """A message for agency staff, in French."""


@dataclass(frozen=True)
class AdvisorRow:
    id: int
    name: str
    agency_id: str
    email: str | None
    active: bool
    clients: int
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None  # "Chargée de clientèle"; none: letters print the agency only

    @property
    def display_name(self) -> str:
        """'Margaret Hebert': first and last name; `name` stays the CRM's (the import matches on it)."""
        return advisor_display_name(self.first_name, self.last_name, self.name)


def agency_id(conn: Connection, text: str) -> str:
    """'Rouvière', 'rouviere', 'ROUVIERE' → 'rouviere'."""
    from store.import_rows import fold

    for aid, name in conn.execute(select(Agency.id, Agency.name)).all():
        if fold(text) in (fold(aid), fold(name)):
            return aid
    raise AdvisorError(f"agence inconnue : {text!r}")


def find(conn: Connection, name_or_id: str | int) -> AdvisorRow:
    rows = list_advisors(conn)
    name_or_id = str(name_or_id)  # the pages pass ids
    if name_or_id.strip().isdigit():
        match = [r for r in rows if r.id == int(name_or_id)]
    else:
        match = [r for r in rows if name_key(r.name) == name_key(name_or_id)] or \
            [r for r in rows if name_key(r.display_name) == name_key(name_or_id)]
    if not match:
        raise AdvisorError(f"conseiller inconnu : {name_or_id!r}")
    return match[0]


def list_advisors(conn: Connection, agency: str | None = None) -> list[AdvisorRow]:
    clients = (select(Client.advisor_id, func.count().label("n")).group_by(Client.advisor_id).subquery())
    stmt = (select(_T.c.id, _T.c.name, _T.c.agency_id, _T.c.email, _T.c.active, func.coalesce(clients.c.n, 0),
                   _T.c.first_name, _T.c.last_name, _T.c.title)
            .outerjoin(clients, clients.c.advisor_id == _T.c.id).order_by(_T.c.agency_id, _T.c.name))
    if agency:
        stmt = stmt.where(_T.c.agency_id == agency_id(conn, agency))
    return [AdvisorRow(*row) for row in conn.execute(stmt).all()]


def add(conn: Connection, name: str, agency: str, email: str | None = None, *, first_name: str | None = None,
        last_name: str | None = None, title: str | None = None) -> AdvisorRow:
    """`name` as the CRM spells it (the import matches on it); first and last name split from it
    unless given (states.people.split_full_name)."""
    name = " ".join(name.split())
    if not name:
        raise AdvisorError("nom manquant")
    if any(name_key(r.name) == name_key(name) for r in list_advisors(conn)):
        raise AdvisorError(f"le conseiller {name!r} existe déjà")
    split_first, split_last = split_full_name(name)
    first = _bounded(first_name if first_name is not None else split_first, "prénom", ADVISOR_NAME_LIMIT)
    last = _bounded(last_name if last_name is not None else split_last, "nom", ADVISOR_NAME_LIMIT)
    new_id = conn.execute(insert(_T).values(name=name, agency_id=agency_id(conn, agency), email=email,
                                            active=True, first_name=first, last_name=last,
                                            title=_bounded(title, "titre", ADVISOR_TITLE_LIMIT))
                          .returning(_T.c.id)).scalar_one()
    return find(conn, str(new_id))


def _bounded(value: str | None, what: str, limit: int) -> str | None:
    text = " ".join((value or "").split())
    if len(text) > limit:
        raise AdvisorError(f"{what} trop long ({len(text)} caractères, maximum {limit})")
    return text or None


def set_names(conn: Connection, name_or_id: str, first_name: str | None, last_name: str | None) -> AdvisorRow:
    """First and last name as letters and the call script print them (a wrong split of the CRM's
    name, say). `name`, the CRM's spelling the import matches on, does not change."""
    advisor = find(conn, name_or_id)
    first = _bounded(first_name, "prénom", ADVISOR_NAME_LIMIT)
    last = _bounded(last_name, "nom", ADVISOR_NAME_LIMIT)
    if not last:
        raise AdvisorError("nom de famille manquant")
    conn.execute(update(_T).where(_T.c.id == advisor.id).values(first_name=first, last_name=last))
    return find(conn, str(advisor.id))


def set_title(conn: Connection, name_or_id: str, title: str | None) -> AdvisorRow:
    """The title printed under the advisor's name ("Chargée de clientèle"); empty: none."""
    advisor = find(conn, name_or_id)
    conn.execute(update(_T).where(_T.c.id == advisor.id)
                 .values(title=_bounded(title, "titre", ADVISOR_TITLE_LIMIT)))
    return find(conn, str(advisor.id))


def move(conn: Connection, name_or_id: str, agency: str) -> AdvisorRow:
    advisor = find(conn, name_or_id)
    conn.execute(update(_T).where(_T.c.id == advisor.id).values(agency_id=agency_id(conn, agency)))
    return find(conn, str(advisor.id))


def set_active(conn: Connection, name_or_id: str, active: bool) -> AdvisorRow:
    """Activate, or deactivate an advisor without open cases (else OpenCases: see `deactivate`)."""
    if not active:
        return deactivate(conn, name_or_id).advisor
    advisor = find(conn, name_or_id)
    conn.execute(update(_T).where(_T.c.id == advisor.id).values(active=True))
    return find(conn, str(advisor.id))


class OpenCases(AdvisorError):
    """The advisor still has open cases and nobody was named to take them."""

    def __init__(self, advisor: AdvisorRow, count: int):
        self.advisor, self.count = advisor, count
        cases = "1 dossier en cours" if count == 1 else f"{count} dossiers en cours"
        super().__init__(f"{advisor.display_name} a {cases} : indiquez le conseiller qui les reprend, "
                         f"ou répartissez-les entre les conseillers actifs de l'agence")


@dataclass(frozen=True)
class Deactivation:
    advisor: AdvisorRow
    reassigned: list[tuple[int, int]] = field(default_factory=list)  # (case id, advisor id now in charge)


def deactivate(conn: Connection, name_or_id: str, *, reassign_to: str | None = None, spread: bool = False,
               actor: str = "system:admin", now: datetime | None = None) -> Deactivation:
    """Deactivate an advisor, first handing over its open cases: all to `reassign_to` (an active
    advisor of the cases' agency), or with `spread` each to the least-loaded active advisor of
    its agency. With open cases and neither, refuses (OpenCases). Each case is reassigned through
    the write path (Reassign, audited as `actor`) in the caller's transaction."""
    if reassign_to and spread:
        raise AdvisorError("choisissez un conseiller qui reprend les dossiers ou la répartition, pas les deux")
    advisor = find(conn, name_or_id)
    cases = conn.execute(
        select(CASE.c.id, CASE.c.version, CASE.c.agency_id)
        .where(CASE.c.assigned_advisor_id == advisor.id, CASE.c.state != "cloture")
        .order_by(CASE.c.id).with_for_update()).all()
    if cases and not (reassign_to or spread):
        raise OpenCases(advisor, len(cases))
    target = pool = None
    if cases and reassign_to:
        target = find(conn, reassign_to)
        if target.id == advisor.id:
            raise AdvisorError(f"{advisor.display_name} ne peut pas reprendre ses propres dossiers")
        if not target.active:
            raise AdvisorError(f"{target.display_name} n'est pas actif")
        elsewhere = [c.id for c in cases if c.agency_id != target.agency_id]
        if elsewhere:
            raise AdvisorError(
                f"{target.display_name} est de l'agence {target.agency_id} ; {len(elsewhere)} dossier(s) "
                f"sont d'une autre agence (n° {', '.join(map(str, elsewhere[:10]))}) : répartissez-les plutôt")
    elif cases:
        pool = AdvisorPool(conn, exclude=[advisor.id])
    when = now or datetime.now(timezone.utc)
    reason = f"désactivation de {advisor.display_name}"
    reassigned = []
    for case in cases:
        new_id = target.id if target else pool.pick(case.agency_id)
        if new_id is None:
            raise AdvisorError(f"aucun autre conseiller actif dans l'agence {case.agency_id} "
                               f"pour reprendre le dossier {case.id}")
        try:
            execute_in(conn, case.id, case.version, Reassign(new_id, reason), actor, when)
        except DomainError as exc:
            raise AdvisorError(f"dossier {case.id} : {exc}") from None
        reassigned.append((case.id, new_id))
    conn.execute(update(_T).where(_T.c.id == advisor.id).values(active=False))
    return Deactivation(find(conn, str(advisor.id)), reassigned)


def set_email(conn: Connection, name_or_id: str, email: str) -> AdvisorRow:
    """The address digests and reminders go to; validated, stored normalised."""
    from states.validators import validate_email_address

    advisor = find(conn, name_or_id)
    normalised, reason = validate_email_address(email)
    if reason:
        raise AdvisorError(reason)
    conn.execute(update(_T).where(_T.c.id == advisor.id).values(email=normalised))
    return find(conn, str(advisor.id))

