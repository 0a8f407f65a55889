"""`last_error` codes (English, no personal data) said in French for `m3 outbox`; the header
guard of build_message refuses any control character, naming the header, never its value."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from notifications.outbox import describe_error
from notifications.render import RenderedEmail
from notifications.smtp_sender import build_message

CODES = {
    "invalid_recipient": "adresse email inutilisable",
    "no_recipient": "aucune adresse email",
    "opposition_email": "opposé aux emails",
    "smtp 550 recipient refused": "destinataire refusé par le serveur d'envoi (code 550)",
    "smtp 450 recipient refused": "destinataire refusé temporairement par le serveur d'envoi (code 450)",
    "smtp 554 SMTPDataError": "refusé par le serveur d'envoi (code 554, SMTPDataError)",
    "build: ValueError": "message impossible à construire (ValueError",
    "send: UnicodeEncodeError": "message impossible à envoyer (UnicodeEncodeError)",
    "render: KeyError": "message impossible à composer (KeyError)",
    "ConnectionRefusedError": "serveur d'envoi injoignable (ConnectionRefusedError)",
    "TimeoutError": "serveur d'envoi injoignable",
    "missing client": "données introuvables (client)",
    "unexpected: RuntimeError": "erreur inattendue (RuntimeError)",
    "max_attempts after interrupted": "abandonné après le nombre maximal d'essais",
    "max_attempts after smtp 451 SMTPDataError": "dernière erreur : refusé temporairement par le serveur d'envoi",
}


@pytest.mark.parametrize(("code", "french"), CODES.items())
def test_outbox__every_error_code_is_said_in_french(code, french):
    said = describe_error(code)
    assert french in said
    assert not re.search(r"\b(refused|unexpected|missing|after|recipient)\b", said)  # no English left


def test_outbox__no_error_says_nothing_and_an_unknown_code_is_shown_as_is():
    assert describe_error(None) == "" and describe_error("") == ""
    assert describe_error("something new") == "something new"


def _email() -> RenderedEmail:
    return RenderedEmail(subject="Objet", text="texte", html="<p>texte</p>")


@pytest.mark.parametrize("to", ["a@b.example\r\nBcc: x@y.example", "a@b.example\n", "a@b.example\x00",
                                "a@b.example\x1b", "a@b.example\x7f"])
def test_outbox__a_header_holding_a_control_character_is_refused_by_name(to):
    with pytest.raises(ValueError, match=r"^line break or control character in header To$"):
        build_message(_email(), to=to, mail_from="Agence <agence@b.example>", msg_id="<x@y>",
                      date=datetime(2026, 4, 15, tzinfo=timezone.utc), kind="action_reminder")


def test_outbox__the_delivery_summary_points_to_the_failed_rows():
    from flows.delivery import summary_markdown
    from notifications.delivery import DeliverySummary

    at = datetime(2026, 4, 15, 8, 30, tzinfo=timezone.utc)
    assert "m3 outbox retry ID" in summary_markdown(DeliverySummary(sent=2, failed=1), at)
    assert "en échec" in summary_markdown(DeliverySummary(sent=2), at)  # the table's row
    assert "m3 outbox retry" not in summary_markdown(DeliverySummary(sent=2), at)
