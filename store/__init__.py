"""Persistence: the tables (store/models.py, generated Core in store/tables.py), engine and sessions, migrations, the write path, the audit chain."""
