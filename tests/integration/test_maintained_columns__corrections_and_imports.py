"""The columns the write path, the cohort and the import keep (migration 0010) stay right, on
both databases: each client's folded search keys (store/search_columns.py) after corrections
and imports, and each case's document counts (store/completeness.py) after requirements,
contracts joining, imports that change a product or a kind, and `m3 products recount`."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select, update

from api.queries import worklist
from states.commands import CorrectClient, JoinContracts, SetRequirement
from states.records import ContractRecord, Family, RequirementStatus
from store import completeness
from store.importer import import_file
from store.search_columns import keys
from store.snapshot import CASE, CLIENT
from store.write_path import execute
from tests import factories as f
from tests.import_csv import row, write_csv


def _keys_are_right(engine) -> None:
    """Every client's stored keys are those of its stored names and phone."""
    with engine.connect() as conn:
        for r in conn.execute(select(CLIENT)):
            assert (r.search_name, r.search_phone) == tuple(keys(r.first_name, r.last_name, r.company_name,
                                                                 r.phone).values()), r.id


def _counts(engine, case_id: int) -> tuple[int, int]:
    with engine.connect() as conn:
        row_ = conn.execute(select(CASE.c.documents_required, CASE.c.documents_satisfied)
                            .where(CASE.c.id == case_id)).one()
        assert completeness.counts(conn, [case_id])[case_id] == tuple(row_)  # kept = recomputed
    return tuple(row_)


def _found(engine, q: str, now) -> list[int]:
    with engine.connect() as conn:
        wl = worklist.load(conn, worklist.Filters(scope="corniche", q=q), now)
    return sorted(i.id for i in wl.appointments + wl.callable + wl.others)


def test_maintained__a_correction_updates_the_search_keys(engine, now):
    with engine.begin() as conn:
        case_id, _, _, _ = f.ready_case(conn)
    assert _found(engine, "dupont", now) == [case_id]
    execute(engine, case_id, 1, CorrectClient({"last_name": "Lefèvre", "phone": "06 11 22 33 44"}), "user:marie", now)
    assert _found(engine, "LEFEVRE marie", now) == [case_id]
    assert _found(engine, "06 11 22 33 44", now) == [case_id] and _found(engine, "dupont", now) == []
    execute(engine, case_id, 2, CorrectClient({"city": "Cassis"}), "user:marie", now)  # no name: keys unchanged
    execute(engine, case_id, 3, CorrectClient({"first_name": "Hélène"}), "user:marie", now)  # one name: the others kept
    assert _found(engine, "helene lefevre", now) == [case_id]
    _keys_are_right(engine)


def test_maintained__the_import_writes_and_rewrites_the_search_keys(engine, tmp_path, now):
    import_file(engine, write_csv(tmp_path / "a.csv", [row(last_name="Léger", first_name="Hélène"),
                                                        row(contract_id="K2", client_id="C2", last_name="Ménard",
                                                            phone="04 91 00 00 00")]), now=now)
    _keys_are_right(engine)
    with engine.begin() as conn:
        case_id = f.case(conn, "C1", ["K1"], None)
    assert _found(engine, "helene leger", now) == [case_id]
    execute(engine, case_id, 1, CorrectClient({"phone": "06 99 88 77 66"}), "user:marie", now)
    # The CRM renames the client and still sends the phone the correction replaced: the name is
    # taken, the corrected phone stands (store.import_corrections); the keys follow both.
    import_file(engine, write_csv(tmp_path / "b.csv", [row(last_name="Léger-Martin", first_name="Hélène"),
                                                        row(contract_id="K2", client_id="C2", last_name="Ménard",
                                                            phone="04 91 00 00 00")]), now=now + timedelta(days=1))
    _keys_are_right(engine)
    assert _found(engine, "leger-martin", now) == [case_id] and _found(engine, "0699", now) == [case_id]


def test_maintained__document_counts_follow_requirements_and_joins(engine, now):
    with engine.begin() as conn:
        case_id, adv, client_id, k = f.ready_case(conn)  # a particulier's Auto: dp, devis, carte grise...
    required, satisfied = _counts(engine, case_id)
    assert required > 0 and satisfied == 0
    v = execute(engine, case_id, 1, SetRequirement(k, "dp", RequirementStatus.VALIDATED), "user:marie", now).version
    assert _counts(engine, case_id) == (required, 1)
    v = execute(engine, case_id, v, SetRequirement(k, "carte_grise", RequirementStatus.WAIVED, "non exigée"),
                "user:marie", now).version
    v = execute(engine, case_id, v, SetRequirement(k, "dp", RequirementStatus.MISSING), "user:marie", now).version
    assert _counts(engine, case_id) == (required, 1)
    with engine.begin() as conn:
        k2 = f.contract(conn, client_id, family="Santé", product="Santé individuelle", effective=date(2026, 1, 20))
    record = ContractRecord(k2, Family.SANTE, "Santé individuelle", date(2026, 1, 20), True, Decimal("600"))
    execute(engine, case_id, v, JoinContracts((record,), now.date() + timedelta(days=10)), "system:cohort", now)
    more, done = _counts(engine, case_id)
    assert more > required and done == 1


def test_maintained__an_import_that_changes_a_product_or_a_kind_recounts_the_case(engine, tmp_path, now):
    import_file(engine, write_csv(tmp_path / "a.csv", [row()]), now=now)  # a particulier's Auto
    with engine.begin() as conn:
        case_id = f.case(conn, "C1", ["K1"], None)
    auto, _ = _counts(engine, case_id)
    import_file(engine, write_csv(tmp_path / "b.csv", [row(product="Multirisque habitation")]), now=now)
    home, _ = _counts(engine, case_id)
    assert home != auto
    import_file(engine, write_csv(tmp_path / "c.csv", [row(product="Multirisque habitation", client_kind="professionnel",
                                                           siret="73282932000074", naf_code="62.01Z",
                                                           activity="Développement logiciel")]), now=now)
    pro, _ = _counts(engine, case_id)
    assert pro != home  # a particulier's CNI is no longer asked


def test_maintained__products_recount_puts_every_case_right(engine, m3, now):
    with engine.begin() as conn:
        ids = [f.ready_case(conn)[0] for _ in range(3)]
        expected = completeness.counts(conn, ids)
        conn.execute(update(CASE).values(documents_required=0, documents_satisfied=7))  # as after a rules edit
    result = m3("products", "recount")
    assert result.exit_code == 0, result.output
    assert "3 dossier(s) recompté(s)" in result.output
    assert {i: _counts(engine, i) for i in ids} == expected


def test_maintained__the_cohort_counts_a_case_when_it_opens(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        cl = f.client(conn, advisor_id=adv)
        k1, k2 = f.contract(conn, cl), f.contract(conn, cl, product="Multirisque habitation")
        f.requirement(conn, k1, "dp", "received")  # recorded before the case opened
        case_id = f.case(conn, cl, [k1, k2], adv, now=datetime(2026, 4, 1, tzinfo=timezone.utc))
    required, satisfied = _counts(engine, case_id)
    assert satisfied == 1 and required >= 4
