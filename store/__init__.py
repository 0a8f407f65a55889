"""Persistence: SQLModel tables, engine and sessions, migrations, the write path, the audit chain."""
