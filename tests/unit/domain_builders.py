"""Plain domain snapshots for pure tests: a valid client of each kind, a case around it."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from states.records import (
    AdvisorRecord, CaseSnapshot, ClientKind, ClientRecord, ContractRecord, Family, RequirementRecord,
    RequirementStatus,
)

PARTICULIER = ClientRecord(
    id="CL1", kind=ClientKind.PARTICULIER, agency_id="corniche", advisor_id=1, last_name="Dupont",
    first_name="Marie", address="12 rue de la Corniche", postal_code="13007", city="Marseille",
    phone="+33612345678", email="marie.dupont@example.fr", marital_status="marié(e)",
    professional_status="salariée",
)
PROFESSIONNEL = replace(PARTICULIER, kind=ClientKind.PROFESSIONNEL, siret="73282932000074", naf_code="62.01Z",
                        activity="Développement logiciel", turnover_eur=Decimal("250000"), headcount=3)
ENTREPRISE = replace(PROFESSIONNEL, kind=ClientKind.ENTREPRISE, company_name="Logiciels du Sud SAS",
                     insurance_contact="Paul Martin, DAF")
CLIENTS = {ClientKind.PARTICULIER: PARTICULIER, ClientKind.PROFESSIONNEL: PROFESSIONNEL,
           ClientKind.ENTREPRISE: ENTREPRISE}

ADVISORS = {1: AdvisorRecord(1, "Julie Martin", "corniche", True),
            2: AdvisorRecord(2, "Ancien Conseiller", "corniche", False),
            3: AdvisorRecord(3, "Luc Rouvière", "rouviere", True)}


def contract(cid: str = "K1", family: Family = Family.IARD, product: str = "Auto",
             **statuses: RequirementStatus) -> ContractRecord:
    reqs = {code: RequirementRecord(code, status, "motif" if status is RequirementStatus.WAIVED else None)
            for code, status in statuses.items()}
    return ContractRecord(cid, family, product, date(2026, 1, 15), requirements=reqs)


def case(state: str = "a_contacter", client: ClientRecord = PARTICULIER, **kw) -> CaseSnapshot:
    defaults = dict(id=1, state=state, version=1, assigned_advisor_id=1, client=client, contracts=(contract(),),
                    attempts=(), inventory=(), outcomes=(), actions=(), advisors=ADVISORS)
    defaults.update(kw)
    return CaseSnapshot(**defaults)
