"""Rows for tests: a valid record by default, any field overridable."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timezone

from sqlalchemy import Connection, insert

from states.calendar import contact_window, due_date
from store.cases import NewCase, open_cases
from store.tables import Advisor, Client, Contract, ContractRequirement

_seq = itertools.count(1)

VALID_PARTICULIER = dict(
    kind="particulier", last_name="Dupont", first_name="Marie", address="12 rue de la Corniche",
    postal_code="13007", city="Marseille", phone="+33612345678", email="marie.dupont@example.fr",
    marital_status="marié(e)", professional_status="salariée", agency_id="corniche",
)
VALID_PRO = dict(VALID_PARTICULIER, kind="professionnel", siret="73282932000074", naf_code="62.01Z",
                 activity="Développement logiciel", turnover_eur=250000, headcount=3)
VALID_ENTREPRISE = dict(VALID_PRO, kind="entreprise", company_name="Logiciels du Sud SAS",
                        insurance_contact="Paul Martin, DAF")
BY_KIND = {"particulier": VALID_PARTICULIER, "professionnel": VALID_PRO, "entreprise": VALID_ENTREPRISE}


def advisor(conn: Connection, name: str | None = None, agency_id: str = "corniche", active: bool = True,
            email: str | None = None, **people) -> int:
    """`people`: first_name, last_name, title (migration 0004); none by default, as the import leaves them."""
    n = next(_seq)
    return conn.execute(insert(Advisor.__table__).values(
        name=name or f"Conseiller {n}", agency_id=agency_id, active=active,
        email=email or f"conseiller{n}@agence.example", **people).returning(Advisor.__table__.c.id)).scalar_one()


def client(conn: Connection, kind: str = "particulier", **overrides) -> str:
    values = dict(BY_KIND[kind], id=f"CL{next(_seq)}")
    values.update(overrides)
    if "search_name" not in overrides:  # the folded keys the import and the write path keep (migration 0010)
        from store.search_columns import keys
        values.update(keys(values.get("first_name"), values.get("last_name"), values.get("company_name"),
                           values.get("phone")))
    conn.execute(insert(Client.__table__).values(**values))
    return values["id"]


def contract(conn: Connection, client_id: str, family: str = "IARD", product: str = "Auto",
             effective: date = date(2026, 1, 15), status: str = "active", **overrides) -> str:
    values = dict(id=f"K{next(_seq)}", client_id=client_id, family=family, product=product,
                  effective_date=effective, status=status, premium_eur=600)
    values.update(overrides)
    conn.execute(insert(Contract.__table__).values(**values))
    return values["id"]


def requirement(conn: Connection, contract_id: str, code: str, status: str = "received", reason=None) -> None:
    conn.execute(insert(ContractRequirement.__table__).values(
        contract_id=contract_id, code=code, status=status, waiver_reason=reason,
        updated_at=datetime(2026, 4, 1, tzinfo=timezone.utc)))


def case(conn: Connection, client_id: str, contract_ids: list[str], advisor_id: int | None,
         effective: date = date(2026, 1, 15), agency_id: str = "corniche",
         now: datetime = datetime(2026, 4, 1, tzinfo=timezone.utc)) -> int:
    due = due_date(effective)
    start, end = contact_window(due)
    [case_id] = open_cases(conn, [NewCase(client_id, agency_id, contract_ids, f"{due:%Y-%m}", due, start, end,
                                          advisor_id)], "system:test", now)
    return case_id


def ready_case(conn: Connection, kind: str = "particulier", product: str = "Auto", **client_overrides):
    """(case_id, advisor_id, client_id, contract_id): a case in à contacter with a valid client."""
    adv = advisor(conn)
    cl = client(conn, kind, advisor_id=adv, **client_overrides)
    k = contract(conn, cl, product=product)
    return case(conn, cl, [k], adv), adv, cl, k
