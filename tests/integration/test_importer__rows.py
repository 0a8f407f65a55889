"""The import on both databases: rejections, encodings, idempotence, advisors, CRM defects."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from store.csv_source import SourceError
from store.importer import import_file
from store.tables import Advisor, Client, Contract
from tests.import_csv import row, write_csv


def _dump(engine):
    with engine.connect() as conn:
        return (conn.execute(select(Client.__table__).order_by(Client.id)).all(),
                conn.execute(select(Contract.__table__).order_by(Contract.id)).all(),
                conn.execute(select(Advisor.__table__).order_by(Advisor.id)).all())


def _client(engine, cid):
    with engine.connect() as conn:
        return conn.execute(select(Client.__table__).where(Client.id == cid)).one()


def test_importer__bad_rows_rejected_with_line_column_reason_good_rows_imported(engine, tmp_path):
    rows = [
        row(contract_id="K1", client_id="C1"),
        row(contract_id="", client_id="C2"),
        row(contract_id="K3", client_id=""),
        row(contract_id="K4", client_id="C4", family="Auto"),
        row(contract_id="K5", client_id="C5", client_kind="association"),
        row(contract_id="K6", client_id="C6", agency="Vieux-Port"),
        row(contract_id="K7", client_id="C7", effective_date="31/02/2024"),
        row(contract_id="K8", client_id="C8", effective_date="2024-13-01"),
        row(contract_id="K9", client_id="C9", effective_date="15/01/2026", family="Santé"),
    ]
    summary = import_file(engine, write_csv(tmp_path / "book.csv", rows))
    assert (summary.read, summary.imported, summary.rejected) == (9, 2, 7)
    assert [(r.line, r.column) for r in summary.rejections] == [
        (3, "contract_id"), (4, "client_id"), (5, "family"), (6, "client_kind"), (7, "agency"),
        (8, "effective_date"), (9, "effective_date")]
    assert "31/02/2024" in summary.rejections[5].reason
    clients, contracts, _ = _dump(engine)
    assert [c.id for c in clients] == ["C1", "C9"] and [k.id for k in contracts] == ["K1", "K9"]


@pytest.mark.parametrize("encoding,delimiter", [("cp1252", ","), ("utf-8", ";"), ("utf-8-sig", ",")])
def test_importer__encodings_delimiters_and_date_formats(engine, tmp_path, encoding, delimiter):
    rows = [row(contract_id="K1", agency="Rouvière", family="Santé", product="Santé individuelle",
                effective_date="15/01/2026", premium_eur="1 234,56"),
            row(contract_id="K2", agency="rouviere", family="épargne", product="Assurance vie",
                effective_date="2026-02-28", premium_eur="99.90")]
    summary = import_file(engine, write_csv(tmp_path / "book.csv", rows, delimiter=delimiter, encoding=encoding))
    assert (summary.imported, summary.rejected) == (2, 0)
    _, contracts, _ = _dump(engine)
    assert [(k.family, str(k.effective_date), Decimal(str(k.premium_eur))) for k in contracts] == [
        ("Santé", "2026-01-15", Decimal("1234.56")), ("Épargne", "2026-02-28", Decimal("99.9"))]
    assert _client(engine, "C1").agency_id == "rouviere"


def test_importer__reimport_changes_nothing_and_a_changed_row_is_updated(engine, tmp_path):
    rows = [row(contract_id="K1"), row(contract_id="K2", product="Multirisque habitation"),
            row(contract_id="K3", client_id="C3", client_kind="entreprise", company_name="Sud SAS")]
    path = write_csv(tmp_path / "book.csv", rows)
    first = import_file(engine, path)
    assert (first.imported, first.updated, first.clients_created) == (3, 0, 2)
    before = _dump(engine)
    again = import_file(engine, path)
    assert (again.read, again.imported, again.updated, again.unchanged, again.advisors_created) == (3, 0, 0, 3, [])
    assert _dump(engine) == before
    rows[2]["premium_eur"] = "700"
    changed = import_file(engine, write_csv(tmp_path / "book2.csv", rows))
    assert (changed.imported, changed.updated, changed.unchanged) == (0, 1, 2)


def test_importer__client_change_counts_its_rows_as_updated_and_last_row_wins(engine, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(contract_id="K1"), row(contract_id="K2")])
    import_file(engine, path)
    s = import_file(engine, write_csv(tmp_path / "b.csv", [
        row(contract_id="K1", city="Aubagne"), row(contract_id="K2", city="Aubagne", client_kind="professionnel")]))
    assert (s.updated, s.clients_updated) == (2, 1)
    c = _client(engine, "C1")
    assert (c.city, c.kind) == ("Aubagne", "professionnel")


def test_importer__unknown_advisor_and_seller_created_in_the_rows_agency(engine, tmp_path):
    with engine.begin() as conn:
        from tests import factories as f
        known = f.advisor(conn, name="Paul Martin", agency_id="corniche")
    rows = [row(contract_id="K1", advisor="paul  MARTIN", seller="Léa Garcia", agency="Rouvière"),
            row(contract_id="K2", client_id="C2", advisor="Léa Garcia", seller="", agency="Rouvière")]
    summary = import_file(engine, write_csv(tmp_path / "book.csv", rows))
    assert summary.advisors_created == [("Léa Garcia", "rouviere")]
    _, contracts, advisors = _dump(engine)
    lea = next(a for a in advisors if a.name == "Léa Garcia")
    assert lea.agency_id == "rouviere" and lea.active
    assert _client(engine, "C1").advisor_id == known and _client(engine, "C2").advisor_id == lea.id
    assert [k.seller_id for k in contracts] == [lea.id, None]


def test_importer__defective_crm_fields_stored_as_given_valid_ones_normalised(engine, tmp_path):
    rows = [row(contract_id="K1", client_id="C1", client_kind="professionnel", siret="73282932000075",
                phone="06 12 34", email="", naf_code="62-01", marital_status=""),
            row(contract_id="K2", client_id="C2", client_kind="professionnel", siret="73282932000074",
                phone="0692 12 34 56", postal_code="97400", naf_code="6201z", turnover_eur="250 000",
                headcount="3")]
    summary = import_file(engine, write_csv(tmp_path / "book.csv", rows))
    assert (summary.imported, summary.rejected) == (2, 0)
    bad, good = _client(engine, "C1"), _client(engine, "C2")
    assert (bad.siret, bad.phone, bad.email, bad.naf_code, bad.naf_nomenclature, bad.marital_status) == \
        ("73282932000075", "06 12 34", None, "62-01", None, None)
    assert (good.phone, good.naf_code, good.naf_nomenclature, good.headcount) == ("+262692123456", "62.01Z", "NAF2", 3)
    assert Decimal(str(good.turnover_eur)) == Decimal("250000")


def test_importer__duplicate_ids_in_one_file_last_row_wins(engine, tmp_path):
    rows = [row(contract_id="K1", product="Auto"), row(contract_id="K1", product="Moto")]
    summary = import_file(engine, write_csv(tmp_path / "book.csv", rows), batch_rows=5000)
    assert (summary.imported, summary.updated) == (1, 1)
    _, contracts, _ = _dump(engine)
    assert [k.product for k in contracts] == ["Moto"]


def test_importer__batches_and_streamed_rejections(engine, tmp_path):
    rows = [row(contract_id=f"K{i}", client_id=f"C{i // 3}", family="Auto" if i % 10 == 0 else "IARD")
            for i in range(1, 48)]
    seen, progress = [], []
    summary = import_file(engine, write_csv(tmp_path / "book.csv", rows), batch_rows=7, keep_rejections=2,
                          on_reject=seen.append, on_progress=lambda b, n: progress.append(n))
    assert (summary.read, summary.imported, summary.rejected) == (47, 43, 4)
    # clients span batches: a later batch sees the clients an earlier one wrote
    assert (summary.clients_created, summary.clients_updated) == (16, 0)
    assert len(summary.rejections) == 2 and len(seen) == 4
    assert progress[-1] == 47 and progress == sorted(progress)
    again = import_file(engine, write_csv(tmp_path / "book.csv", rows), batch_rows=5)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 43)


def test_importer__unreadable_file_raises_before_writing(engine, tmp_path):
    with pytest.raises(SourceError):
        import_file(engine, tmp_path / "absent.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("contract;client\nK1;C1\n", encoding="utf-8")
    with pytest.raises(SourceError, match="colonnes manquantes"):
        import_file(engine, bad)
    assert _dump(engine)[1] == []



def test_importer__rows_created_outside_the_import_are_updated_not_imported(engine, tmp_path):
    from tests import factories as f

    with engine.begin() as conn:
        cid = f.client(conn, opposition_phone=True, housing_status="owner")
        kid = f.contract(conn, cid)
    s = import_file(engine, write_csv(tmp_path / "book.csv", [row(contract_id=kid, client_id=cid)]))
    assert (s.imported, s.updated, s.clients_created, s.clients_updated) == (0, 1, 0, 1)
    c = _client(engine, cid)  # what the CRM does not carry is left alone
    assert (c.opposition_phone, c.housing_status, c.opposition_email) == (True, "owner", False)
