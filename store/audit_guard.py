"""The database itself refuses to rewrite the audit trail: triggers on SQLite and PostgreSQL.

UPDATE, DELETE (and TRUNCATE on PostgreSQL) on `audit_record` raise inside the database, so a
script, a console session or a bug cannot edit the trail; the `postgres` superuser bypasses
privileges but not triggers (short of dropping them, which `m3 audit verify` then exposes through
the broken chains it finds). The one exception is RGPD redaction (store.redaction): it may blank a
record's content (`changes`, `reason`) and stamp `redacted_at`, never its place in the chain
(id, case, seq, time, actor, action, hashes), and only for a record it granted itself in
`audit_redaction_grant` within the same transaction.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

_IMMUTABLE = ("id", "case_id", "seq", "at", "actor", "action", "prev_hash", "hash")

SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON audit_record
       BEGIN SELECT RAISE(ABORT, 'audit_record is append-only: DELETE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_record
       WHEN NOT EXISTS (SELECT 1 FROM audit_redaction_grant g WHERE g.record_id = OLD.id)
         OR {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in _IMMUTABLE)}
       BEGIN SELECT RAISE(ABORT, 'audit_record is append-only: UPDATE refused (only a redaction may blank content)');
       END""",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS audit_record_no_delete", "DROP TRIGGER IF EXISTS audit_record_no_update")

POSTGRES_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION m3_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF EXISTS (SELECT 1 FROM audit_redaction_grant g WHERE g.record_id = OLD.id)
           AND {' AND '.join(f'NEW.{c} IS NOT DISTINCT FROM OLD.{c}' for c in _IMMUTABLE)} THEN
          RETURN NEW;
        END IF;
      END IF;
      RAISE EXCEPTION 'audit_record is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$""",
    "DROP TRIGGER IF EXISTS audit_record_append_only ON audit_record",
    """CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_record
       FOR EACH ROW EXECUTE FUNCTION m3_audit_append_only()""",
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record",
    """CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record
       FOR EACH STATEMENT EXECUTE FUNCTION m3_audit_append_only()""",
)
POSTGRES_DROP = ("DROP TRIGGER IF EXISTS audit_record_append_only ON audit_record",
                 "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record",
                 "DROP FUNCTION IF EXISTS m3_audit_append_only()")


def install(conn: Connection) -> None:
    for stmt in POSTGRES_TRIGGERS if conn.dialect.name == "postgresql" else SQLITE_TRIGGERS:
        conn.execute(text(stmt))


def uninstall(conn: Connection) -> None:
    for stmt in POSTGRES_DROP if conn.dialect.name == "postgresql" else SQLITE_DROP:
        conn.execute(text(stmt))
