"""What the suite logged, kept for the last hardening test to scan for personal data.

Every log record of the test process (the application's `m3.*` loggers at INFO and above,
every library's warnings, Prefect's flow-run logs: they propagate to the root logger) is
formatted, with its traceback, and kept in memory; files that other processes wrote (the
servers' stderr, a killed command's stderr) are registered by the tests that start them and
read at scan time. The personal data to look for is the test data's: the factories' values,
the demo book's, and whatever a hardening test seeds (it registers them here).

Installed by tests/hardening/conftest.py when the suite is collected, so a whole-suite run
scans the logs of the whole suite; the handler is put back before every test because
Prefect's logging set-up replaces the root logger's handlers.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

_lock = threading.Lock()
_texts: list[tuple[str, str]] = []  # (where, text): one per record
_files: list[tuple[str, Path]] = []  # (what, path), read at scan time
_values: dict[str, set[str]] = {"name": set(), "email": set(), "phone": set()}
APP_LOGGERS = ("m3",)  # the application's loggers: INFO records matter too (delivery, write path)


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception as exc:  # noqa: BLE001 - a record that cannot be formatted: keep what we can
            text = f"{record.name} {record.msg!r} {record.args!r} ({type(exc).__name__})"
        with _lock:
            if len(_texts) < 2_000_000:
                _texts.append((f"log {record.name}", text))


HANDLER = _Keep()


def install() -> None:
    """Idempotent: the handler on the root logger (and on Prefect's loggers that do not
    propagate), the application's loggers at INFO."""
    root = logging.getLogger()
    if HANDLER not in root.handlers:
        root.addHandler(HANDLER)
    for name in ("prefect.extra", "prefect._internal"):
        lg = logging.getLogger(name)
        if HANDLER not in lg.handlers:
            lg.addHandler(HANDLER)
    for name in APP_LOGGERS:
        lg = logging.getLogger(name)
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)


def register_file(what: str, path: Path) -> Path:
    with _lock:
        _files.append((what, Path(path)))
    return Path(path)


def book_values(path: Path) -> tuple[set[str], set[str], set[str]]:
    """The client names, emails and phones of a CRM export (`m3 demo-data`'s CSV)."""
    import csv

    names, emails, phones = set(), set(), set()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            names.update({r["last_name"], r["company_name"], f"{r['first_name']} {r['last_name']}".strip()})
            emails.add(r["email"])
            phones.add(r["phone"])
    return names, emails, phones


def register_values(names=(), emails=(), phones=()) -> None:
    """Personal data a test put in a database: what the scan looks for."""
    with _lock:
        _values["name"].update(n for n in names if n)
        _values["email"].update(e for e in emails if e)
        _values["phone"].update(p for p in phones if p)


def records() -> list[tuple[str, str]]:
    with _lock:
        return list(_texts)


def files() -> list[tuple[str, Path]]:
    with _lock:
        return list(_files)


def values() -> dict[str, set[str]]:
    with _lock:
        return {k: set(v) for k, v in _values.items()}
