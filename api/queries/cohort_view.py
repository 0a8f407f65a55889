"""What the cohort froze on a case, as the case list and detail show it (French labels).

- the contact window: `window_open` (false until its first day) and `window_opens_on`, since the
  cohort opens ten days before its month and a case may exist before it may be called;
- the priority's parts (family, kind, premium), so an advisor can read why a case comes first;
- a contract's product as the documents rules read it: its risks, or "produit non reconnu".
"""
from __future__ import annotations

from datetime import date
from typing import Any

from states import requirements

PRIORITY_PARTS = (
    ("family", "Famille de contrat (la plus prioritaire du dossier)"),
    ("kind", "Type de client (particulier, professionnel, entreprise)"),
    ("premium", "Montant des primes (un point par palier, plafonné)"),
)
NOT_RECORDED = "détail non enregistré : dossier ouvert avant que la cohorte n'enregistre les parts du score"


def window_fields(window_start: date, today: date) -> dict[str, Any]:
    return {"window_open": today >= window_start, "window_opens_on": window_start}


def priority_detail(parts: dict[str, int] | None, total: int) -> dict[str, Any]:
    """{"total", "recorded", "parts": [{"part", "label", "points"}], "note"}."""
    if not parts:
        return {"total": total, "recorded": False, "parts": [], "note": NOT_RECORDED}
    return {"total": total, "recorded": True, "note": None,
            "parts": [{"part": key, "label": label, "points": int(parts.get(key, 0))} for key, label in PRIORITY_PARTS]}


def product_fields(product: str) -> dict[str, Any]:
    """The contract's risks as the documents rules read its product, or "produit non reconnu"."""
    m = requirements.product_match(product)
    return {"product_known": m.known, "product_status": m.label,
            "risks": [{"code": r, "label": requirements.risk_label(r)} for r in m.risks]}
