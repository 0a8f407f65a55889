"""A realistic synthetic contract book, in the CRM export format that `m3 import` reads.

Deterministic for a seed and a `today`: the same arguments give the same file, byte for byte.
Clients are mostly particuliers; professionnels and entreprises carry SIRET, NAF, activity,
turnover and headcount. A few percent of the CRM fields are defective on purpose (bad SIRET,
phone that does not parse, empty email, bad NAF, missing situation), because correcting them
is what the M+3 call is for. Document statuses are not part of the CRM export: every
document starts missing, which is the default of the contract checklist.
"""
from __future__ import annotations

import csv
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from stdnum import luhn

from store.csv_source import COLUMNS

DEMO_COLUMNS = COLUMNS + ("civility",)  # with the optional civility column (docs/import.md)
from store.demo_pools import (
    ACTIVITIES, CONTACT_ROLES, MAIL_DOMAINS, MARITAL, MARITAL_WEIGHTS, OVERSEAS, PLACES, PRODUCTS,
    SITUATIONS, Pools, civility_of, make_pools,
)

KINDS, KIND_WEIGHTS = ["particulier", "professionnel", "entreprise"], [80, 14, 6]
CONTRACTS_PER_CLIENT, CPC_WEIGHTS = [1, 2, 3, 4], [62, 25, 9, 4]
DEFECT_RATE = 0.03  # per defect kind


@dataclass(frozen=True)
class DemoStats:
    rows: int
    clients: int


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isalnum() and c.isascii() or c in ".-").lower()


class _Book:
    def __init__(self, seed: int, today: date, date_style: str):
        self.rng = random.Random(seed)
        self.pools: Pools = make_pools(seed)
        self.today = today
        self.date_fmt = "%Y-%m-%d" if date_style == "iso" else "%d/%m/%Y"
        self.products = {k: ([(p[0], p[1], p[3], p[4]) for p in ps], [p[2] for p in ps]) for k, ps in PRODUCTS.items()}

    def phone(self, overseas: bool, landline: tuple[str, ...]) -> str:
        r = self.rng
        if r.random() < DEFECT_RATE:  # unparsable, unallocated, too short, or overseas in mainland
            return r.choice(["06 12 34", "07 01 23 45 67", "n/c", "0692 45 12 78", "+33 6 12"])
        if overseas:
            head = r.choice(["0692", "0693", "0262"])
            rest = f"{r.randrange(10**6):06d}"
            return f"{head} {rest[:2]} {rest[2:4]} {rest[4:]}"
        rest = f"{r.randrange(10**6):06d}"
        if r.random() < 0.75:
            head = r.choice(["06 1", "06 2", "06 4", "06 5", "06 6", "06 7", "06 8", "07 6", "07 8"])
            head += str(r.randrange(10))
        else:
            head = r.choice(landline)  # '04 91': the area of the client's town
        number = f"{head} {rest[:2]} {rest[2:4]} {rest[4:]}"
        style = r.random()
        if style < 0.15:
            return number.replace(" ", "")
        if style < 0.25:
            return number.replace(" ", ".")
        return number

    def siret(self) -> str:
        r = self.rng
        siren = f"{r.randrange(10**8):08d}"
        siren += luhn.calc_check_digit(siren)
        nic = f"{r.randrange(1, 10**4):04d}"
        siret = siren + nic + luhn.calc_check_digit(siren + nic)
        if r.random() < DEFECT_RATE:  # a typo in the last digit
            siret = siret[:-1] + str((int(siret[-1]) + 1) % 10)
        return siret if r.random() < 0.7 else f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"

    def client(self, n: int) -> dict[str, str]:
        r, p = self.rng, self.pools
        kind = r.choices(KINDS, KIND_WEIGHTS)[0]
        agency = "Corniche" if r.random() < 0.55 else "Rouvière"
        advisors = p.advisors[agency]
        # The last Corniche advisor has left: only a few old clients still name them.
        advisor = advisors[-1] if agency == "Corniche" and r.random() < 0.03 else r.choice(
            advisors[:-1] if agency == "Corniche" else advisors)
        last, first = r.choice(p.last_names), r.choice(p.first_names)
        overseas = r.random() < 0.02
        if overseas:
            postal, city = r.choice(OVERSEAS)
            landline: tuple[str, ...] = ()
        else:
            postal, city, landline = r.choice(PLACES)
        email = f"{_ascii(first)}.{_ascii(last)}{r.randrange(100) if r.random() < 0.3 else ''}@{r.choice(MAIL_DOMAINS)}"
        if r.random() < DEFECT_RATE:
            email = r.choice(["", "", f"{_ascii(first)}.{_ascii(last)}@", f"{_ascii(last)} @ orange.fr"])
        c = {"client_id": f"CLI{n:08d}", "client_kind": kind, "last_name": last, "first_name": first,
             "address": r.choice(p.streets), "postal_code": postal, "city": city,
             "phone": self.phone(overseas, landline), "email": email,
             "marital_status": r.choices(MARITAL, MARITAL_WEIGHTS)[0] if r.random() > DEFECT_RATE else "",
             "professional_status": r.choice(SITUATIONS[kind]) if r.random() > DEFECT_RATE else "",
             "agency": agency, "advisor": advisor,
             # From the first name; about 3 % unknown, as a CRM leaves it blank (no random draw:
             # the rest of the book stays what it was before the column existed).
             "civility": "" if n % 33 == 0 else (civility_of(first) or "")}
        if kind != "particulier":
            naf, activity = r.choice(ACTIVITIES)
            if r.random() < 0.4:
                naf = naf.replace(".", "")
            if r.random() < DEFECT_RATE:
                naf = r.choice(["6201", "62-01", "ZZ", "NAF?"])
            big = kind == "entreprise"
            c.update(siret=self.siret(), naf_code=naf, activity=activity,
                     turnover_eur=str(r.randrange(500_000, 20_000_000, 1000) if big else r.randrange(30_000, 600_000, 500)),
                     headcount=str(r.randrange(6, 250) if big else r.randrange(0, 6)))
            if big:
                c["company_name"] = r.choice(p.companies)
                c["insurance_contact"] = f"{r.choice(p.first_names)} {r.choice(p.last_names)}, {r.choice(CONTACT_ROLES)}"
                if r.random() < DEFECT_RATE:
                    c["insurance_contact"] = ""
            elif r.random() < 0.3:
                c["company_name"] = f"{activity} {last}"
        return c

    def contracts(self, client: dict[str, str], n: int, first_id: int) -> list[list[str]]:
        r = self.rng
        choices, weights = self.products[client["client_kind"]]
        agency_advisors = self.pools.advisors[client["agency"]]
        rows = []
        for i in range(n):
            family, product, low, high = r.choices(choices, weights)[0]
            seller = client["advisor"] if r.random() < 0.7 else r.choice(agency_advisors[:5])
            premium = f"{r.uniform(low, high):.2f}".replace(".", ",")
            effective = self.today - timedelta(days=r.randrange(0, 731))
            row = dict(client, contract_id=f"CTR{first_id + i:09d}", seller=seller, family=family,
                       product=product, effective_date=effective.strftime(self.date_fmt), premium_eur=premium,
                       status="cancelled" if r.random() < 0.05 else "active")
            rows.append([row.get(col, "") for col in DEMO_COLUMNS])
        return rows


def write_demo_book(path: str | Path, contracts: int = 3000, seed: int = 42, today: date | None = None,
                    encoding: str = "utf-8", delimiter: str = ";", date_style: str = "fr") -> DemoStats:
    """Write about `contracts` rows (exactly that many) to `path`; date_style 'fr' or 'iso'."""
    book = _Book(seed, today or date.today(), date_style)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = clients = 0
    with path.open("w", encoding=encoding, errors="replace", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(DEMO_COLUMNS)
        while rows < contracts:
            clients += 1
            client = book.client(clients)
            n = min(book.rng.choices(CONTRACTS_PER_CLIENT, CPC_WEIGHTS)[0], contracts - rows)
            writer.writerows(book.contracts(client, n, rows + 1))
            rows += n
    return DemoStats(rows, clients)
