"""Validation of CRM fields, by the maintained libraries (never hand-written checksums).

Each validator returns (normalised value, None) when valid, or (None, reason in French) when not.

The libraries are imported by the validator that uses them, on its first call: importing them
(phonenumbers, email-validator, python-stdnum) cost ~0.1-0.2 s of every command that imports the
domain's guards without validating anything (`m3 cohort --dry-run`; docs/performance-cli-http.md).
"""
from __future__ import annotations

import re

Result = tuple[str | None, str | None]

# Overseas departments: their phone numbers belong to their own numbering region.
_OVERSEAS_REGION = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT", "975": "PM"}
_NAF_RE = re.compile(r"^(\d{2})\.?(\d{2})([A-Za-z])$")
_POSTAL_RE = re.compile(r"^\d{5}$")


def phone_region(postal_code: str | None) -> str:
    if postal_code and len(postal_code) >= 3:
        return _OVERSEAS_REGION.get(postal_code[:3], "FR")
    return "FR"


def validate_phone(raw: str | None, postal_code: str | None = None) -> Result:
    if not raw or not raw.strip():
        return None, "téléphone manquant"
    import phonenumbers

    region = phone_region(postal_code)
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, f"téléphone illisible : {raw!r}"
    if not phonenumbers.is_valid_number(number):
        return None, f"téléphone invalide pour la région {region} : {raw!r}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


# Characters that must never reach a mail header: line breaks (CR, LF, NEL, U+2028/2029) and every
# other control character. email-validator refuses them inside an address, but it is given the
# value without its surrounding whitespace, so "a@b.fr\r\n" used to pass while the stored value
# kept the line break (issue 9, hole 1: a header injection, then a sender that stopped on it).
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def validate_email_address(raw: str | None) -> Result:
    """A usable address, normalised, or why not. Usable means: email-validator accepts it, it holds
    no line break or control character anywhere (not even at its ends), and its part before the @
    is ASCII (our messages are plain SMTP without SMTPUTF8: "josé@…" cannot be a recipient). A
    non-ASCII domain is fine: it is sent in its IDNA form (`sendable_email_address`)."""
    info, reason = _email_info(raw)
    return (info.normalized, None) if info else (None, reason)


def sendable_email_address(raw: str | None) -> Result:
    """The address as it goes into the envelope and the To header (ASCII, IDNA domain), or why not."""
    info, reason = _email_info(raw)
    return (info.ascii_email, None) if info else (None, reason)


def _email_info(raw: str | None):
    if not raw or not raw.strip():
        return None, "email manquant"
    if _HEADER_UNSAFE.search(raw):
        return None, "email invalide : il contient un saut de ligne ou un caractère de contrôle"
    from email_validator import EmailNotValidError, validate_email

    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        return None, f"email invalide : {exc}"
    if info.ascii_email is None:
        return None, ("email invalide : caractères accentués avant l'@, que nos envois ne prennent pas en charge "
                      "(demandez une autre adresse au client)")
    return info, None


def validate_siret(raw: str | None) -> Result:
    if not raw or not raw.strip():
        return None, "SIRET manquant"
    from stdnum.exceptions import ValidationError as StdnumError
    from stdnum.fr import siret as stdnum_siret

    try:
        return stdnum_siret.validate(raw), None
    except StdnumError as exc:
        return None, f"SIRET invalide ({exc})"


def validate_naf(raw: str | None) -> Result:
    """NAF rév. 2: four digits and a letter, normalised to `62.01Z`."""
    if not raw or not raw.strip():
        return None, "code NAF manquant"
    m = _NAF_RE.match(raw.strip().replace(" ", ""))
    if not m:
        return None, f"code NAF invalide : {raw!r} (attendu 62.01Z)"
    return f"{m[1]}.{m[2]}{m[3].upper()}", None


def validate_postal_code(raw: str | None) -> Result:
    if not raw or not raw.strip():
        return None, "code postal manquant"
    if not _POSTAL_RE.match(raw.strip()):
        return None, f"code postal invalide : {raw!r} (5 chiffres)"
    return raw.strip(), None


def validate_text(raw: str | None, label: str) -> Result:
    if raw is None or not str(raw).strip():
        return None, f"{label} manquant"
    return str(raw).strip(), None
