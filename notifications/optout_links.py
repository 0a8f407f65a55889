"""Signed opt-out links: every marketing email carries one (and RFC 8058's one-click headers).

The link is `<M3_PUBLIC_BASE_URL>/desinscription/<token>`. The token is an itsdangerous
signature of {client, case, channel}: it proves the link came from one of our messages, so the
public page needs no login and the one-click POST needs no CSRF field (the signature is the
authorisation, as RFC 8058 expects). It never expires: a client may use the link of an old
message, and the opposition must be free and always possible.

The signing secret is not the session secret: rotating the session secret (which logs every
user out) must not break the links already in clients' mailboxes. It comes from
`M3_OPTOUT_SECRET` (several machines share it), else from `<data_dir>/optout-secret`,
generated once and created atomically (two processes starting together agree, as for the
session secret: each writes a candidate and hard-links it to the final name; the loser reads
the winner's).
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from config import generated_secret

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "m3-optout-v1"
SECRET_FILE = "optout-secret"
PATH = "/desinscription"
CHANNELS = ("email", "letter")


@dataclass(frozen=True)
class OptOut:
    client_id: str
    case_id: int
    channel: str


def secret(settings=None) -> str:
    if settings is None:
        from config import get_settings
        settings = get_settings()
    if settings.optout_secret:
        return settings.optout_secret
    return _secret_file(Path(settings.data_dir) / SECRET_FILE)


def _secret_file(path: Path) -> str:
    value = generated_secret.read_or_create(path)
    if not value:
        raise RuntimeError(f"secret des liens de désinscription illisible : {path}")
    return value


def _serializer(settings=None) -> URLSafeSerializer:
    return URLSafeSerializer(secret(settings), salt=SALT)


def token(client_id: str, case_id: int, channel: str = "email", settings=None) -> str:
    if channel not in CHANNELS:
        raise ValueError(channel)
    return _serializer(settings).dumps({"c": client_id, "k": case_id, "ch": channel})


def read(value: str, settings=None) -> OptOut | None:
    """The opt-out a token names, or None when its signature (or its shape) is wrong."""
    if not value or len(value) > 500:
        return None
    try:
        data = _serializer(settings).loads(value)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    client_id, case_id, channel = data.get("c"), data.get("k"), data.get("ch")
    if not isinstance(client_id, str) or not isinstance(case_id, int) or channel not in CHANNELS:
        return None
    return OptOut(client_id, case_id, channel)


def url(client_id: str, case_id: int, channel: str = "email", settings=None) -> str:
    if settings is None:
        from config import get_settings
        settings = get_settings()
    return f"{settings.public_url}{PATH}/{token(client_id, case_id, channel, settings)}"
