"""One realistic case for the case-detail benchmark and its structural test (issue 10).

A case an advisor has worked for a while, written through the JSON API as an advisor would:
two contracts with their signatures and documents, calls and an email, an appointment, an
inventory of the client's contracts here and elsewhere, the bilan's outcomes, planned actions,
notes, a claim and a question. Every table the case detail reads holds rows, so a statement that
runs only when a part is not empty (the requirements of the contracts, the advisors of the
actions) shows in the count.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Engine, insert

from states.calendar import contact_window, due_date
from store.cases import NewCase, open_cases
from store.tables import Advisor, Client, Contract

# A Wednesday, 10:30 in Paris: inside the consumer calling hours (the tests' clock).
NOW = datetime(2026, 4, 15, 8, 30, tzinfo=timezone.utc)
PASSWORD = "banc d'essai du dossier"
USERNAME = "conseil_dossier"


@dataclass(frozen=True)
class SeededCase:
    case_id: int
    advisor_id: int
    token: str  # the advisor's API token
    username: str  # the advisor's login for the pages (password PASSWORD)


def _client_row(client_id: str, advisor_id: int) -> dict:
    return dict(id=client_id, kind="particulier", last_name="Dupont", first_name="Marie",
                address="12 rue de la Corniche", postal_code="13007", city="Marseille", phone="+33612345678",
                email="marie.dupont@example.fr", marital_status="marié(e)", professional_status="salariée",
                agency_id="corniche", advisor_id=advisor_id)


def seed_rows(engine: Engine, prefix: str = "CD") -> tuple[int, int, list[str]]:
    """The advisors, the client, two contracts and the opened case: (case id, advisor id, contract ids)."""
    from store.search_columns import keys

    eff = date(2026, 1, 15)
    due = due_date(eff)
    start, end = contact_window(due)
    adv_table = Advisor.__table__
    with engine.begin() as conn:
        adv = conn.execute(insert(adv_table).values(name="Margaret Hebert", first_name="Margaret", last_name="Hebert",
                                                    agency_id="corniche", active=True, email="mh@agence.example")
                           .returning(adv_table.c.id)).scalar_one()
        colleague = conn.execute(insert(adv_table).values(name="Paul Sarda", agency_id="corniche", active=True,
                                                          email="ps@agence.example")
                                 .returning(adv_table.c.id)).scalar_one()
        client_id = f"{prefix}1"
        row = _client_row(client_id, adv)
        row.update(keys(row["first_name"], row["last_name"], None, row["phone"]))
        conn.execute(insert(Client.__table__).values(**row))
        contracts = [f"{prefix}K1", f"{prefix}K2"]
        conn.execute(insert(Contract.__table__), [
            dict(id=contracts[0], client_id=client_id, family="IARD", product="Auto", effective_date=eff,
                 status="active", premium_eur=600, seller_id=adv),
            dict(id=contracts[1], client_id=client_id, family="IARD", product="Habitation", effective_date=eff,
                 status="active", premium_eur=300, seller_id=colleague),
        ])
        [case_id] = open_cases(conn, [NewCase(client_id, "corniche", contracts, f"{due:%Y-%m}", due, start, end,
                                              adv)], "system:bench", NOW - timedelta(days=10))
    return case_id, adv, contracts


def create_advisor_user(engine: Engine, advisor_id: int, username: str = USERNAME) -> str:
    """An advisor user with a password (the pages) and a token (the API): returns the token."""
    from api import auth
    from api.roles import Role

    with engine.begin() as conn:
        _, token = auth.create_user(conn, username, Role.ADVISOR, "corniche", NOW, advisor_id=advisor_id)
        auth.set_password(conn, username, PASSWORD, NOW, 12)
    return token


def work_the_case(client, token: str, case_id: int, contracts: list[str], advisor_id: int) -> int:
    """Write the case's history through the JSON API (`client`: a TestClient of the app at NOW).

    Returns the case's version after it."""
    base = f"/api/cases/{case_id}"
    version = 1

    def send(method: str, path: str, body: dict | None = None) -> dict:
        nonlocal version
        resp = client.request(method, base + path, json=body,
                              headers={"Authorization": f"Bearer {token}", "If-Match": f'"{version}"'})
        if resp.status_code != 200:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
        version = int(resp.headers["ETag"].strip('W/"'))
        return resp.json()

    earlier = NOW - timedelta(days=6)
    send("post", "/attempts", {"channel": "phone", "outcome": "no_answer", "at": earlier.isoformat()})
    send("post", "/attempts", {"channel": "phone", "outcome": "voicemail",
                               "at": (earlier + timedelta(days=1)).isoformat()})
    send("post", "/attempts", {"channel": "email", "outcome": "sent", "at": (earlier + timedelta(days=2)).isoformat()})
    send("post", "/attempts", {"channel": "phone", "outcome": "reached"})
    send("post", "/appointments", {"at": (NOW + timedelta(days=2)).isoformat(), "channel": "agency",
                                   "client_agreed": True})
    send("post", "/assignment/confirm", {"agency_id": "corniche", "advisor_id": advisor_id})
    send("post", "/events/valider_fiche")
    detail = client.get(base, headers={"Authorization": f"Bearer {token}"}).json()
    for contract in detail["contracts"]:
        for req in contract["requirements"]:
            send("put", f"/contracts/{contract['id']}/requirements/{req['code']}", {"status": "validated"})
    send("post", "/events/finaliser_contrats")
    for line in ({"family": "IARD", "product": "Auto", "held": "chez_nous"},
                 {"family": "IARD", "product": "Habitation", "held": "chez_nous"},
                 {"family": "Santé", "product": "Complémentaire santé", "held": "ailleurs", "insurer": "MGEN"},
                 {"family": "Prévoyance", "product": "Garantie des accidents de la vie", "held": "ailleurs",
                  "insurer": "MAIF", "renewal_date": "2026-09-01"},
                 {"family": "Épargne", "product": "Assurance vie", "held": "ailleurs", "insurer": "Crédit Agricole"}):
        send("post", "/inventory", line)
    send("post", "/topics", {"kind": "sinistre", "summary": "Bris de glace en février, réglé"})
    send("post", "/topics", {"kind": "question", "summary": "Franchise en cas de prêt du véhicule ?"})
    for note in ("Client joint à la 4e tentative, préfère être appelé le matin.",
                 "Rendez-vous à l'agence pour le bilan complet.",
                 "Intéressé par une offre épargne, à revoir après l'été."):
        send("post", "/notes", {"text": note})
    send("post", "/outcomes", {"kind": "satisfied", "detail": "satisfait de l'auto"})
    send("post", "/outcomes", {"kind": "complementary_need", "detail": "devis prévoyance",
                               "client_decision": "accepted"})
    send("post", "/outcomes", {"kind": "complementary_need", "detail": "épargne retraite",
                               "client_decision": "to_think"})
    send("post", "/outcomes", {"kind": "technical_question", "detail": "franchise prêt du véhicule",
                               "answer": "La franchise s'applique au conducteur occasionnel."})
    for action in ({"kind": "devis", "due_date": "2026-04-30", "label": "Devis prévoyance"},
                   {"kind": "relance", "due_date": "2026-06-15", "label": "Relancer sur l'épargne"},
                   {"kind": "envoi", "due_date": "2026-04-20", "label": "Envoyer la notice auto"}):
        send("post", "/actions", action)
    return version
