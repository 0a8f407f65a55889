"""The hash chain detects edits and deletions; `m3 audit verify` exits 1 on them; `m3 audit export`
writes the trail as JSON and as CSV (before/after per field). Both databases."""
from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from cli.main import app
from states.commands import ConfirmAssignment, CorrectClient, FireEvent
from states.lifecycle import mermaid
from store import audit, audit_guard
from store.write_path import execute
from tests import factories as f
from tests.integration.db_helpers import AUDIT, CASE

runner = CliRunner()


@pytest.fixture
def trail_case(engine, now) -> int:
    """A case with four audit records: ouverture, joindre, correct_client, confirm_assignment."""
    with engine.begin() as conn:
        case_id, adv, *_ = f.ready_case(conn)
    execute(engine, case_id, 1, FireEvent("joindre"), "advisor:1", now)
    execute(engine, case_id, 2, CorrectClient({"phone": "06 11 22 33 44"}, reason="nouveau numéro"), "advisor:1",
            now + timedelta(minutes=5))
    execute(engine, case_id, 3, ConfirmAssignment("corniche", adv), "advisor:1", now + timedelta(minutes=6))
    return case_id



def verify(engine):
    with engine.connect() as conn:
        return audit.verify_all(conn)


def tamper(engine, stmt) -> None:
    """What an administrator who first dropped the database's guard could do (store.audit_guard)."""
    with engine.begin() as conn:
        audit_guard.uninstall(conn)
        assert conn.execute(stmt).rowcount == 1
        audit_guard.install(conn)


def test_audit__verify_passes_on_a_clean_trail(engine, trail_case):
    n_cases, n_records, breaches, digest = verify(engine)
    assert (n_cases, n_records, breaches) == (1, 4, [])
    assert len(digest) == 64


def test_audit__edited_changes_are_detected(engine, trail_case):
    tamper(engine, update(AUDIT).where(AUDIT.c.case_id == trail_case, AUDIT.c.seq == 3)
           .values(changes={"client.phone": ["+33612345678", "+33700000000"]}))
    [breach] = verify(engine)[2]
    assert (breach.case_id, breach.seq) == (trail_case, 3) and "edited" in breach.problem


def test_audit__edited_actor_or_reason_is_detected(engine, trail_case):
    tamper(engine, update(AUDIT).where(AUDIT.c.case_id == trail_case, AUDIT.c.seq == 3).values(reason=None))
    assert [(b.case_id, b.seq) for b in verify(engine)[2]] == [(trail_case, 3)]


def test_audit__deleted_middle_record_is_detected(engine, trail_case):
    tamper(engine, delete(AUDIT).where(AUDIT.c.case_id == trail_case, AUDIT.c.seq == 2))
    breaches = verify(engine)[2]
    assert [(b.case_id, b.seq) for b in breaches] == [(trail_case, 2)]
    assert "missing" in breaches[0].problem


def test_audit__deleted_last_record_is_detected(engine, trail_case):
    tamper(engine, delete(AUDIT).where(AUDIT.c.case_id == trail_case, AUDIT.c.seq == 4))
    [breach] = verify(engine)[2]
    assert (breach.case_id, breach.seq) == (trail_case, None)
    assert "chain ends at 3 but the case expects 4" in breach.problem


@pytest.mark.parametrize("values", [{"audit_head": "f" * 64}, {"audit_seq": 3}, {"audit_seq": 5}],
                         ids=["head", "seq-lowered", "seq-raised"])
def test_audit__altered_case_tip_is_detected(engine, trail_case, values):
    tamper(engine, update(CASE).where(CASE.c.id == trail_case).values(**values))
    assert [(b.case_id, b.seq) for b in verify(engine)[2]] == [(trail_case, None)]


def test_audit__a_tampered_case_does_not_hide_the_others(engine, trail_case, now):
    with engine.begin() as conn:
        clean_id, *_ = f.ready_case(conn)
    execute(engine, clean_id, 1, FireEvent("joindre"), "advisor:2", now)
    tamper(engine, update(AUDIT).where(AUDIT.c.case_id == trail_case, AUDIT.c.seq == 1).values(actor="system:x"))
    n_cases, n_records, breaches, _ = verify(engine)
    assert (n_cases, n_records) == (2, 6)
    assert {b.case_id for b in breaches} == {trail_case}


# ---------------------------------------------------------------- command line
def test_audit__cli_verify_prints_counts_and_digest_and_exits_0_when_clean(cli_db, trail_case):
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    digest = verify(cli_db)[3]
    assert "dossiers vérifiés : 1" in result.stdout
    assert "enregistrements vérifiés : 4" in result.stdout
    assert digest in result.stdout


@pytest.mark.parametrize("stmt", ["edit", "delete-middle", "delete-last", "tip"])
def test_audit__cli_verify_exits_1_and_names_case_and_seq_on_tampering(cli_db, trail_case, stmt):
    where = (AUDIT.c.case_id == trail_case)
    tamper(cli_db, {
        "edit": update(AUDIT).where(where, AUDIT.c.seq == 2).values(changes={}),
        "delete-middle": delete(AUDIT).where(where, AUDIT.c.seq == 3),
        "delete-last": delete(AUDIT).where(where, AUDIT.c.seq == 4),
        "tip": update(CASE).where(CASE.c.id == trail_case).values(audit_head="0" * 64),
    }[stmt])
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    expected = {"edit": "enregistrement 2", "delete-middle": "enregistrement 3", "delete-last": "fin de chaîne",
                "tip": "fin de chaîne"}[stmt]
    assert f"ATTEINTE dossier {trail_case}, {expected}" in result.stderr
    assert "empreinte globale" in result.stdout


def test_audit__cli_export_writes_json_and_csv_with_before_and_after(cli_db, trail_case, tmp_path):
    result = runner.invoke(app, ["audit", "export", str(trail_case), "--out", str(tmp_path / "exports")])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "exports" / f"case-{trail_case}-audit.json").read_text("utf-8"))
    with cli_db.connect() as conn:
        assert doc["records"] == audit.trail(conn, trail_case)
    assert doc["case_id"] == trail_case and doc["audit_seq"] == 4 and doc["audit_head"] == doc["records"][-1]["hash"]
    assert [r["action"] for r in doc["records"]] == ["ouverture", "joindre", "correct_client", "confirm_assignment"]

    with open(tmp_path / "exports" / f"case-{trail_case}-audit.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(audit.CSV_COLUMNS)
    by_field = {(r["seq"], r["field"]): r for r in rows}
    assert (by_field[("2", "case.state")]["before"], by_field[("2", "case.state")]["after"]) == (
        "a_contacter", "joint_rdv")
    phone = by_field[("3", "client.phone")]
    assert (phone["before"], phone["after"], phone["reason"]) == ("+33612345678", "+33611223344", "nouveau numéro")
    assert by_field[("4", "case.assignment_confirmed")]["after"] == "True"


def test_audit__cli_export_of_an_unknown_case_fails_clearly(cli_db, tmp_path):
    result = runner.invoke(app, ["audit", "export", "999999", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "dossier 999999 inconnu" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_audit__cli_lifecycle_prints_the_mermaid_diagram():
    result = runner.invoke(app, ["lifecycle"])
    assert result.exit_code == 0
    assert result.stdout == mermaid()
