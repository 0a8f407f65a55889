"""A secret generated once in the data folder, the same for every process that starts with it.

Used where a secret is not configured (the pages' session secret, the opt-out links' key). Two
processes starting together must agree: each writes a candidate to a temporary file of its own
(mode 0600) and `os.link`s it to the name, which exactly one of them can do; the others read the
winner's. Returns None when the file stays unreadable (the caller says which secret, in French).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def read_or_create(path: Path, attempts: int = 20) -> str | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(attempts):
        existing = read(path)
        if existing:
            return existing
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # atomic: exactly one process creates the name
            except FileExistsError:
                pass  # another process won: read its secret
        finally:
            tmp.unlink(missing_ok=True)
    return read(path)
