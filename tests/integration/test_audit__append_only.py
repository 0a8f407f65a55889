"""The database itself refuses to rewrite the audit trail, on SQLite and PostgreSQL alike; RGPD
redaction is the one audited exception and keeps the chain verifiable (issue 9, hole 7)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from states.commands import CorrectClient, FireEvent, RedactAuditRecord
from states.errors import InvalidChange
from store import audit, audit_guard
from store.write_path import execute
from tests import factories as f
from tests.integration.db_helpers import AUDIT, CASE, case_dict


@pytest.fixture
def trail(engine, now) -> int:
    with engine.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    execute(engine, case_id, 1, FireEvent("joindre"), "advisor:1", now)
    execute(engine, case_id, 2, CorrectClient({"phone": "06 11 22 33 44"}, reason="nouveau numéro de Mme Durand"),
            "advisor:1", now + timedelta(minutes=5))
    return case_id


def _breaches(engine):
    with engine.connect() as conn:
        return audit.verify_all(conn)[2]


@pytest.mark.parametrize("stmt", ["update", "delete"])
def test_audit_guard__the_database_refuses_update_and_delete(engine, trail, stmt):
    where = (AUDIT.c.case_id == trail) & (AUDIT.c.seq == 2)
    sql = update(AUDIT).where(where).values(actor="system:x") if stmt == "update" else delete(AUDIT).where(where)
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(sql)
    assert _breaches(engine) == []


def test_audit_guard__postgres_refuses_truncate_even_to_the_superuser(pg_engine, now):
    with pg_engine.begin() as conn:
        f.ready_case(conn)
    with pytest.raises(DBAPIError, match="append-only"):
        with pg_engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_record CASCADE"))
    with pg_engine.connect() as conn:
        assert conn.execute(select(AUDIT.c.id)).first() is not None


def test_audit_guard__a_grant_does_not_allow_moving_a_record_in_the_chain(engine, trail):
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            rec_id = conn.execute(select(AUDIT.c.id).where(AUDIT.c.case_id == trail, AUDIT.c.seq == 3)).scalar_one()
            conn.execute(text("INSERT INTO audit_redaction_grant (record_id) VALUES (:i)"), {"i": rec_id})
            conn.execute(update(AUDIT).where(AUDIT.c.id == rec_id).values(hash="0" * 64))


def test_redaction__blanks_content_keeps_the_chain_and_is_audited(engine, trail, now):
    result = execute(engine, trail, 3, RedactAuditRecord(3, "demande d'effacement RGPD du 12/04"), "user:dpo",
                     now + timedelta(days=1))
    assert result.action == "redaction" and result.version == 4
    with engine.connect() as conn:
        records = audit.trail(conn, trail)
    assert records[2]["changes"] == {} and records[2]["reason"] is None  # the phone and the name are gone
    assert records[3]["action"] == "redaction" and records[3]["changes"] == {"redacted": [None, {"seq": 3}]}
    assert records[3]["prev_hash"] == records[2]["hash"]  # the hash of what was removed still links the chain
    assert _breaches(engine) == []


def test_redaction__keeps_the_lifecycle_so_the_state_still_replays(engine, trail, now):
    execute(engine, trail, 3, RedactAuditRecord(2, "durée de conservation échue"), "system:retention", now)
    with engine.connect() as conn:
        assert audit.trail(conn, trail)[1]["changes"]["case.state"] == ["a_contacter", "joint_rdv"]
    assert _breaches(engine) == []


def test_redaction__works_on_a_closed_case(engine, trail, now):
    execute(engine, trail, 3, FireEvent("classer_sans_suite", reason="client parti"), "advisor:1", now)
    execute(engine, trail, 4, RedactAuditRecord(3, "durée de conservation échue"), "system:retention", now)
    assert case_dict(engine, trail)["version"] == 5 and _breaches(engine) == []


@pytest.mark.parametrize("seq, reason, field", [(9, "motif", "seq"), (2, "  ", "reason")])
def test_redaction__refuses_a_missing_record_or_reason(engine, trail, now, seq, reason, field):
    with pytest.raises(InvalidChange) as err:
        execute(engine, trail, 3, RedactAuditRecord(seq, reason), "user:dpo", now)
    assert field in err.value.errors and case_dict(engine, trail)["version"] == 3


def test_redaction__a_redaction_record_cannot_itself_be_redacted(engine, trail, now):
    execute(engine, trail, 3, RedactAuditRecord(3, "RGPD"), "user:dpo", now)
    with pytest.raises(InvalidChange, match="efface"):
        execute(engine, trail, 4, RedactAuditRecord(4, "RGPD"), "user:dpo", now)


def test_verify__content_blanked_without_a_redaction_record_is_a_breach(engine, trail):
    with engine.begin() as conn:
        audit_guard.uninstall(conn)
        conn.execute(update(AUDIT).where(AUDIT.c.case_id == trail, AUDIT.c.seq == 3)
                     .values(changes={}, reason=None, redacted_at=CASE.c.updated_at.default or None))
        conn.execute(text("UPDATE audit_record SET redacted_at = at WHERE case_id = :c AND seq = 3"), {"c": trail})
        audit_guard.install(conn)
    assert [(b.seq, b.problem) for b in _breaches(engine)] == [(3, "content blanked without an audited redaction")]


@pytest.mark.parametrize("column, value, words", [("state", "cloture", "trail leads to 'joint_rdv'"),
                                                   ("version", 7, "version 7")])
def test_verify__a_state_or_version_the_trail_does_not_explain_is_a_breach(engine, trail, column, value, words):
    with engine.begin() as conn:
        conn.execute(update(CASE).where(CASE.c.id == trail).values({column: value}))
    problems = [b.problem for b in _breaches(engine)]
    assert len(problems) == 1 and words in problems[0]


def test_audit__cli_redact_blanks_the_record_and_verify_still_passes(cli_db, now):
    from typer.testing import CliRunner

    from cli.main import app
    with cli_db.begin() as conn:
        case_id, *_ = f.ready_case(conn)
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "redact", str(case_id), "1", "--reason", "demande RGPD"])
    assert result.exit_code == 0, result.output
    assert "enregistrement 1 effacé" in result.stdout
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    refused = runner.invoke(app, ["audit", "redact", str(case_id), "7", "--reason", "x"])
    assert refused.exit_code == 1 and "refusé" in refused.stderr
