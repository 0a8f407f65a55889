"""Search terms as a person types them: accents, capitals, phone spacing, numbers."""
from __future__ import annotations

from api.queries.search import Terms, fold, phone_e164


def _m(q, names=("Hélène", "Léger"), phone="+33612345678", numbers=("83", "CL12", "K-2026-001")) -> bool:
    return Terms.parse(q).matches(names=list(names), phone=phone, numbers=list(numbers))


def test_search__fold_removes_accents_and_case():
    assert fold("  Hélène  LÉGER ") == "helene leger"
    assert fold("Œuvre Ça") == "œuvre ca"


def test_search__names_ignore_case_and_accents_in_any_order():
    assert _m("helene") and _m("HÉLÈNE") and _m("leger helene") and _m("hel")
    assert not _m("marie")


def test_search__phone_typed_as_people_do():
    assert phone_e164("06 12 34 56 78") == "+33612345678"
    assert _m("06 12 34 56 78") and _m("06.12.34.56.78") and _m("+33 6 12 34 56 78") and _m("0612")
    assert not _m("06 99 99 99 99")


def test_search__case_client_and_contract_numbers():
    assert _m("83") and _m("cl12") and _m("k-2026-001") and _m("2026-001")
    assert not _m("84")


def test_search__empty_query_is_no_search():
    assert Terms.parse("   ") is None and Terms.parse(None) is None
