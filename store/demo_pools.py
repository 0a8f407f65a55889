"""What the synthetic book is made of: products, activities, places, and pools of Faker values.

Faker is slow per call (tens of µs), so names, streets and companies are drawn once into pools
and the generator combines them with `random`: a million rows take seconds, not minutes.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

# (family, product, premium range in euros), per client kind; weights favour the common ones.
PRODUCTS: dict[str, list[tuple[str, str, int, int, int]]] = {
    "particulier": [
        ("IARD", "Auto", 35, 350, 1400), ("IARD", "Multirisque habitation", 25, 150, 700),
        ("IARD", "Moto", 4, 200, 900), ("IARD", "Garantie des accidents de la vie", 4, 120, 400),
        ("Santé", "Santé individuelle", 12, 600, 2400),
        ("Prévoyance", "Prévoyance individuelle", 6, 200, 1200), ("Prévoyance", "Assurance obsèques", 2, 150, 600),
        ("Prévoyance", "Assurance emprunteur", 3, 200, 1500),
        ("Épargne", "Assurance vie", 7, 600, 12000), ("Épargne", "Plan d'épargne retraite", 2, 1200, 6000),
    ],
    "professionnel": [
        ("IARD", "Multirisque professionnelle", 30, 400, 3000), ("IARD", "RC Pro", 25, 300, 2500),
        ("IARD", "Auto", 12, 500, 1800), ("Santé", "Santé TNS", 12, 900, 3000),
        ("Prévoyance", "Prévoyance TNS", 12, 500, 2500), ("Épargne", "Plan d'épargne retraite", 9, 1200, 9000),
    ],
    "entreprise": [
        ("IARD", "Multirisque professionnelle", 25, 1500, 15000), ("IARD", "RC Pro", 15, 1000, 9000),
        ("IARD", "Flotte automobile", 12, 4000, 40000),
        ("Santé", "Complémentaire santé collective", 20, 3000, 60000),
        ("Prévoyance", "Prévoyance collective", 18, 2000, 40000), ("Épargne", "Épargne salariale", 10, 2000, 30000),
    ],
}

# NAF rév. 2 codes with the exact activity the checklist asks for.
ACTIVITIES = [
    ("62.01Z", "Programmation informatique"), ("56.10A", "Restauration traditionnelle"),
    ("43.22A", "Plomberie, installation d'eau et de gaz"), ("47.73Z", "Pharmacie"),
    ("86.21Z", "Médecine générale"), ("69.20Z", "Expertise comptable"),
    ("45.20A", "Réparation de véhicules automobiles légers"), ("96.02A", "Coiffure"),
    ("71.11Z", "Architecture"), ("10.71C", "Boulangerie-pâtisserie"),
    ("41.20A", "Construction de maisons individuelles"), ("49.32Z", "Taxi"),
    ("86.23Z", "Chirurgie dentaire"), ("68.31Z", "Agence immobilière"), ("55.10Z", "Hôtellerie"),
    ("43.21A", "Électricité du bâtiment"), ("47.11B", "Commerce d'alimentation générale"),
]

# (postal code, city, phone region prefixes): the agencies are in Marseille; some clients elsewhere.
PLACES = [
    *[(f"130{n:02d}", "Marseille", ("04 91",)) for n in range(1, 17)],
    ("13100", "Aix-en-Provence", ("04 42",)), ("13090", "Aix-en-Provence", ("04 42",)),
    ("13400", "Aubagne", ("04 42",)), ("13600", "La Ciotat", ("04 42",)), ("13260", "Cassis", ("04 42",)),
    ("13190", "Allauch", ("04 91",)), ("13380", "Plan-de-Cuques", ("04 91",)),
    ("13700", "Marignane", ("04 42",)), ("13127", "Vitrolles", ("04 42",)), ("13500", "Martigues", ("04 42",)),
    ("83000", "Toulon", ("04 94",)), ("83500", "La Seyne-sur-Mer", ("04 94",)),
    ("84000", "Avignon", ("04 90",)), ("69003", "Lyon", ("04 78",)), ("75011", "Paris", ("01 43",)),
    ("20000", "Ajaccio", ("04 95",)),
]
# Overseas clients (La Réunion): their phones are 0692/0693 mobiles or 0262 lines.
OVERSEAS = [("97400", "Saint-Denis"), ("97410", "Saint-Pierre"), ("97460", "Saint-Paul"), ("97430", "Le Tampon")]

MARITAL = ["célibataire", "marié(e)", "pacsé(e)", "concubinage", "divorcé(e)", "veuf(ve)"]
MARITAL_WEIGHTS = [30, 35, 12, 10, 9, 4]
SITUATIONS = {
    "particulier": ["salarié(e)", "cadre", "fonctionnaire", "retraité(e)", "étudiant(e)", "sans emploi",
                    "profession libérale"],
    "professionnel": ["artisan", "commerçant(e)", "profession libérale", "auto-entrepreneur"],
    "entreprise": ["gérant(e) de société", "président(e) de SAS", "directeur(trice) général(e)"],
}
MAIL_DOMAINS = ["gmail.com", "orange.fr", "free.fr", "laposte.net", "sfr.fr", "hotmail.fr", "wanadoo.fr",
                "yahoo.fr", "outlook.fr"]
CONTACT_ROLES = ["DAF", "gérant(e)", "responsable administratif(ve)", "assistant(e) de direction", "RH"]


@dataclass(frozen=True)
class Pools:
    last_names: list[str]
    first_names: list[str]
    streets: list[str]
    companies: list[str]
    advisors: dict[str, list[str]]  # agency name → advisor names; the last of Corniche has left


def make_pools(seed: int, size: int = 1500) -> Pools:
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    last = sorted({fake.last_name() for _ in range(size)})
    first = sorted({fake.first_name() for _ in range(size // 2)})
    streets = [fake.street_address() for _ in range(size * 2)]
    companies = sorted({fake.company() for _ in range(size)})
    rng = random.Random(seed)
    names = sorted({f"{fake.first_name()} {fake.last_name()}" for _ in range(40)})
    rng.shuffle(names)
    # ~10 advisors over both agencies, plus one who has left (named on old clients only).
    return Pools(last, first, streets, companies,
                 {"Corniche": names[:6], "Rouvière": names[6:11]})


def civility_of(first_name: str) -> str | None:
    """'Mme' or 'M.' from Faker's fr_FR lists of first names (the demo only: real clients'
    civility comes from the CRM, never from a guess); None for a name in neither list."""
    from faker.providers.person.fr_FR import Provider

    if first_name in Provider.first_names_female:
        return "Mme"
    if first_name in Provider.first_names_male:
        return "M."
    return None


def demo_title(full_name: str) -> str | None:
    """The demo advisors' title, agreed with their first name."""
    civility = civility_of(full_name.split()[0]) if full_name.split() else None
    return {"Mme": "Chargée de clientèle", "M.": "Chargé de clientèle"}.get(civility or "")
