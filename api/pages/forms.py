"""Reading the pages' forms: text to typed values, with French messages, and the same bounds as
the JSON API (the forms are validated with its pydantic schemas where one exists)."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

_MESSAGES = {
    "string_too_long": "texte trop long ({max_length} caractères au plus)",
    "string_too_short": "texte trop court",
    "string_pattern_mismatch": "caractère interdit",
    "missing": "obligatoire",
    "int_parsing": "nombre entier attendu",
    "decimal_parsing": "nombre attendu",
    "float_parsing": "nombre attendu",
    "greater_than_equal": "doit être au moins {ge}",
    "less_than_equal": "doit être au plus {le}",
    "less_than": "doit être inférieur à {lt}",
    "date_from_datetime_parsing": "date attendue (JJ/MM/AAAA)",
    "date_parsing": "date attendue (JJ/MM/AAAA)",
    "enum": "valeur inconnue",
    "literal_error": "valeur inconnue",
    "bool_parsing": "oui ou non attendu",
    "decimal_max_places": "{decimal_places} décimales au plus",
    "extra_forbidden": "champ inconnu",
}


class FormError(Exception):
    """A form that cannot become a command: field -> French message (shown like InvalidChange)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class NothingToDo(Exception):
    """The form asks for no change (e.g. the client record sent back as it was)."""


def french(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors():
        name = ".".join(str(x) for x in e.get("loc", ())) or "formulaire"
        template = _MESSAGES.get(e.get("type", ""))
        ctx = e.get("ctx") or {}
        try:
            out[name] = template.format(**ctx) if template else e.get("msg", "invalide")
        except (KeyError, IndexError):
            out[name] = template or "invalide"
    return out


def validate(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FormError(french(exc)) from None


def text(form, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def required(form, name: str, what: str) -> str:
    value = text(form, name)
    if value is None:
        raise FormError({name: f"{what} obligatoire"})
    return value


def integer(form, name: str, what: str, required_: bool = True) -> int | None:
    value = text(form, name)
    if value is None:
        if required_:
            raise FormError({name: f"{what} obligatoire"})
        return None
    try:
        n = int(value)
    except ValueError:
        raise FormError({name: f"{what} : nombre entier attendu"}) from None
    if not 0 < n < 2**31:
        raise FormError({name: f"{what} hors limites"})
    return n


def day(form, name: str, what: str, required_: bool = True) -> date | None:
    value = text(form, name)
    if value is None:
        if required_:
            raise FormError({name: f"{what} obligatoire"})
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        try:
            d = datetime.strptime(value, "%d/%m/%Y").date()
        except ValueError:
            raise FormError({name: f"{what} : date attendue (JJ/MM/AAAA)"}) from None
    if not date(1900, 1, 1) <= d <= date(2200, 12, 31):
        raise FormError({name: f"{what} : date hors de la plage plausible"})
    return d


def moment(form, date_name: str, time_name: str | None, tz: ZoneInfo, what: str,
           required_: bool = True) -> datetime | None:
    """A date and a time typed in the client's time zone (`time_name` None: one datetime-local field)."""
    if time_name is None:
        value = text(form, date_name)
        if value is None:
            if required_:
                raise FormError({date_name: f"{what} obligatoire"})
            return None
        try:
            naive = datetime.fromisoformat(value)
        except ValueError:
            raise FormError({date_name: f"{what} : date et heure attendues"}) from None
        if naive.tzinfo is not None:
            naive = naive.replace(tzinfo=None)
    else:
        d = day(form, date_name, what, required_)
        if d is None:
            return None
        t = text(form, time_name)
        if t is None:
            raise FormError({time_name: f"{what} : heure obligatoire"})
        try:
            naive = datetime.combine(d, time.fromisoformat(t))
        except ValueError:
            raise FormError({time_name: f"{what} : heure attendue (HH:MM)"}) from None
    if not 2000 <= naive.year <= 2200:
        raise FormError({date_name: f"{what} : date hors de la plage plausible"})
    return naive.replace(tzinfo=tz)


def checkbox(form, name: str) -> bool:
    return str(form.get(name) or "").lower() in ("1", "on", "true", "oui")
