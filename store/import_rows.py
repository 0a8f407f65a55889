"""One CRM export row → the client and contract values to store, or the reason it cannot be.

Two kinds of problems, kept apart on purpose (issue §6):
- a row that cannot be stored (no id, unknown kind/family/agency/status, a date that does not
  exist, a value longer than its column's limit, a row the CSV reader could not read) raises
  `RowRejected(column, reason)`; so does a contract value no agency could act on (issue 9, hole
  5): an effective date outside EARLIEST_EFFECTIVE .. today + LATEST_EFFECTIVE_YEARS, a negative
  premium;
- a defective CRM field (bad SIRET, phone, NAF, empty email...) is stored as given: correcting
  it is what the M+3 call is for, and the case's checklist shows it. A turnover or headcount that
  is not a plausible number is stored empty, which the checklist asks for. An email that cannot
  be a mail header (a line break or control character in it, accents before the @) is such a
  field: stored as given (trimmed), "to correct" by states.validators.validate_email_address,
  and never sent (notifications/delivery.py fails its message alone).

Every column has a length limit (`LIMITS`), checked first and in C for the whole row at once:
the reasons that quote a value quote a short one.

The expensive normalisation (phone → E.164) lives in store.crm_fields, so the importer runs
it only for the clients it writes (new or changed).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import gt, itemgetter

from states.people import CLIENT_TEXT_LIMITS, parse_civility
from states.records import ClientKind, Family
from store.csv_source import COLUMNS, OPTIONAL_COLUMNS, UnreadableRow
from store.tables import Advisor, Client, Contract

_I = {name: i for i, name in enumerate(COLUMNS)}
# CSV column → client table column, for the CRM fields copied as they are.
CLIENT_TEXT = ("last_name", "first_name", "company_name", "address", "postal_code", "city", "phone",
               "email", "marital_status", "professional_status", "siret", "naf_code", "activity",
               "insurance_contact")
_CLIENT_TEXT_GET = itemgetter(*(_I[name] for name in CLIENT_TEXT))
_HASHED_CLIENT_I = tuple(_I[c] for c in ("client_kind", *CLIENT_TEXT, "turnover_eur", "headcount", "advisor"))
_HASHED_CONTRACT_I = tuple(_I[c] for c in ("client_id", "seller", "product", "premium_eur"))


class RowRejected(Exception):
    def __init__(self, column: str, reason: str):
        super().__init__(f"{column}: {reason}")
        self.column, self.reason = column, reason


def fold(text: str) -> str:
    """'Rouvière ' → 'rouviere': accents and case optional in the export's codes."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


# The columns whose limit no table column or printed field gives (docs/import.md lists them all).
# Free text follows the API's corrections (api/schemas.py ShortText: 200); codes, dates and amounts
# are short by nature, and a longer value is not one of them.
_OTHER_LIMITS = {
    "client_kind": 32, "marital_status": 200, "professional_status": 200, "activity": 200,
    "turnover_eur": 64, "headcount": 32, "agency": 100, "family": 32, "product": 200,
    "effective_date": 32, "premium_eur": 32, "status": 32, "civility": 16,
}


def _limits() -> dict[str, int]:
    # PostgreSQL enforces VARCHAR(n) where SQLite does not: check here so both behave alike.
    out = {}
    for csv_name, column in [("contract_id", Contract.__table__.c.id), ("client_id", Client.__table__.c.id),
                             ("advisor", Advisor.__table__.c.name), ("seller", Advisor.__table__.c.name),
                             *[(n, Client.__table__.c[n]) for n in CLIENT_TEXT]]:
        # Names, address and contact have no column length: the bound of the letters that print them.
        length = getattr(column.type, "length", None) or CLIENT_TEXT_LIMITS.get(csv_name) or _OTHER_LIMITS.get(csv_name)
        if length:
            out[csv_name] = length
    out |= {name: limit for name, limit in _OTHER_LIMITS.items() if name not in out}
    missing = set(COLUMNS + OPTIONAL_COLUMNS) - out.keys()
    if missing:
        raise RuntimeError(f"import columns without a length limit: {sorted(missing)}")
    return out


LIMITS = _limits()  # {column: longest value, in characters}: every column of the export
_MAX_LEN_I = tuple((_I[name], LIMITS[name], name) for name in COLUMNS)  # the optional ones: in check
_LIMITS = tuple(limit for _, limit, _ in _MAX_LEN_I)  # in COLUMNS order: zipped with a row's fields
_OPTIONAL_LIMIT = LIMITS[OPTIONAL_COLUMNS[0]]
# Plausible effective dates: no contract of the agency's book predates 1900, and none is signed
# to take effect years ahead. The typos this catches (0001, 9999, 2206, 3026) are decades away,
# while a real date rejected costs a client's follow-up: so a generous five years ahead.
EARLIEST_EFFECTIVE = date(1900, 1, 1)
LATEST_EFFECTIVE_YEARS = 5
HEADCOUNT_MAX = 10_000_000  # the API's bound (api/schemas.py); more is not a headcount
TURNOVER_MAX = 10**12  # Numeric(14, 2)
_WIDTH = len(COLUMNS)
_KINDS = {fold(k.value): k.value for k in ClientKind}
_FAMILIES = {fold(f.value): f.value for f in Family}
_STATUSES = {"active": "active", "cancelled": "cancelled"}
_MONTHS_OK = "AAAA-MM-JJ ou JJ/MM/AAAA"


def _lookup(raw: str, table: dict[str, str], cache: dict[str, str | None]) -> str | None:
    try:
        return cache[raw]
    except KeyError:
        value = table.get(fold(raw))
        if len(cache) < 10_000:  # codes repeat; garbage must not grow the cache without bound
            cache[raw] = value
        return value


_date_cache: dict[str, date | None] = {}


def parse_date(raw: str) -> date | None:
    """ISO (2024-02-29) or French (29/02/2024); None when it does not exist or does not parse."""
    try:
        return _date_cache[raw]
    except KeyError:
        pass
    value: date | None = None
    text = raw.strip()
    try:
        if "/" in text:
            d, m, y = text.split("/")
            if len(y) == 4:
                value = date(int(y), int(m), int(d))
        elif len(text) == 10:
            value = date.fromisoformat(text)
    except ValueError:
        value = None
    if len(_date_cache) < 100_000:
        _date_cache[raw] = value
    return value


def parse_decimal(raw: str) -> Decimal | None:
    """'1 234,56', '1234.56', '1.234,56', '-12,5' → Decimal('1234.56') ...; None when not a plain
    number: no exponent, no NaN, ASCII digits, at most 20 of them on each side of the point (so
    rounding to cents always fits Decimal's precision)."""
    if _USUAL.fullmatch(raw) is not None:  # '612', '879,86', '1234.5': ~1.5 µs less than below
        return Decimal(raw.replace(",", "."))
    text = raw.strip()
    if not text.replace(",", "").replace(".", "").isdigit():  # the common case skips the clean-up
        text = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace("€", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    if _NUMBER.fullmatch(text) is None:
        return None
    value = Decimal(text)
    dot = text.find(".")
    return value if dot < 0 or len(text) - dot <= 3 else value.quantize(_CENT)


_NUMBER = re.compile(r"[-+]?[0-9]{1,20}(?:\.[0-9]{1,20})?")
_USUAL = re.compile(r"[0-9]{1,10}(?:[.,][0-9]{1,2})?")
_CENT = Decimal("0.01")


def _row_hash(fields: list[str], picks: tuple[int, ...], extra: str) -> str:
    joined = "\x1f".join([fields[i] for i in picks]) + "\x1f" + extra
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()


# The same hashes, the columns picked in C (itemgetter): the same bytes hashed, ~0.5 µs less a row.
_CLIENT_PICK = itemgetter(*_HASHED_CLIENT_I)
_CONTRACT_PICK = itemgetter(*_HASHED_CONTRACT_I)
_blake2b = hashlib.blake2b


def client_hash(fields: list[str], extra: str) -> str:
    """_row_hash(fields, _HASHED_CLIENT_I, extra)."""
    return _blake2b(("\x1f".join(_CLIENT_PICK(fields)) + "\x1f" + extra).encode(), digest_size=16).hexdigest()


@dataclass(slots=True)
class ParsedRow:
    line: int
    fields: list[str]  # as read: the client's values are built only if the client is written
    client_id: str
    kind: str
    agency_id: str
    contract: dict  # contract table values; seller_id resolved by the importer
    advisor: str | None  # advisor of record's name, as given
    seller: str | None
    client_hash: str  # source_hash: what the CRM said, to detect unchanged rows on re-import
    contract_hash: str


def client_values(row: ParsedRow) -> dict:
    """The client table values of a row, CRM fields as given (crm_fields normalises them)."""
    fields = row.fields
    client = dict(zip(CLIENT_TEXT, [f.strip() or None for f in _CLIENT_TEXT_GET(fields)]))
    client["id"], client["kind"], client["agency_id"] = row.client_id, row.kind, row.agency_id
    client["turnover_eur"], client["headcount"] = turnover(fields), headcount(fields)
    return client


# Numbers the CRM got wrong are CRM defects: stored empty, and the checklist asks for them. So is
# an implausible one: a negative turnover, a headcount past HEADCOUNT_MAX.
def turnover(fields: list[str]) -> Decimal | None:
    value = parse_decimal(fields[16]) if fields[16].strip() else None
    return value if value is not None and 0 <= value < TURNOVER_MAX else None


def headcount(fields: list[str]) -> int | None:
    text = fields[17].replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not (text.isascii() and text.isdigit()):  # '²' is a digit to str.isdigit, not to int()
        return None
    value = int(text)
    return value if value <= HEADCOUNT_MAX else None


def latest_effective(today: date) -> date:
    """The latest plausible effective date: LATEST_EFFECTIVE_YEARS after `today`."""
    try:
        return today.replace(year=today.year + LATEST_EFFECTIVE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + LATEST_EFFECTIVE_YEARS, day=28)


class RowParser:
    """Parses rows for one import. `agencies`: the agency table as {id: name}; `width`: COLUMNS
    plus the optional columns the file has; `today`: the import's date (the plausible effective
    dates end LATEST_EFFECTIVE_YEARS after it; default: the clock's)."""

    def __init__(self, agencies: dict[str, str], width: int | None = None, today: date | None = None):
        self._width = width or _WIDTH  # COLUMNS, plus the optional columns the file has
        self.latest = latest_effective(today or date.today())
        self._agency_table = {fold(k): k for k in agencies} | {fold(v): k for k, v in agencies.items()}
        self._kinds: dict[str, str | None] = {}
        self._families: dict[str, str | None] = {}
        self._agencies: dict[str, str | None] = {}
        # A client's rows usually follow each other with the same client columns: its hash is
        # computed once per run of identical columns (the slice ends after `advisor`).
        self._last_client: tuple[list[str], str] = ([], "")

    def parse(self, line: int, fields: list[str]) -> ParsedRow:
        """The values to store; RowRejected(column, reason) when the row cannot be stored."""
        return _parse(line, fields, self._agency_table, self._kinds, self._families, self._agencies, self)
    def check(self, fields: list[str]) -> tuple:
        """The validated contract values (see `check`); RowRejected when the row cannot be stored."""
        return check(fields, self._agency_table, self._kinds, self._families, self._agencies, self._width,
                     self.latest)

    def client_hash(self, fields: list[str], agency_id: str) -> str:
        key = fields[1:21]
        last, digest = self._last_client
        if key != last:
            digest = _row_hash(fields, _HASHED_CLIENT_I, agency_id)
            self._last_client = (key, digest)
        return digest


def _parse(line: int, fields: list[str], agencies: dict[str, str],
           _kinds: dict, _families: dict, _agencies: dict, parser: RowParser) -> ParsedRow:
    contract_id, client_id, kind, agency_id, family, product, effective, status, premium = \
        check(fields, agencies, _kinds, _families, _agencies, parser._width, parser.latest)
    contract = {"id": contract_id, "client_id": client_id, "family": family, "product": product,
                "effective_date": effective, "status": status, "premium_eur": premium}
    return ParsedRow(
        line, fields, client_id, kind, agency_id, contract,
        fields[20].strip() or None, fields[21].strip() or None,
        parser.client_hash(fields, agency_id),
        contract_hash(fields, family, effective.isoformat(), status),
    )


def contract_hash(fields: list[str], family: str, effective_iso: str, status: str) -> str:
    """_row_hash(fields, _HASHED_CONTRACT_I, f"{family}\x1f{effective_iso}\x1f{status}")."""
    client_id, seller, product, premium = _CONTRACT_PICK(fields)
    return _blake2b("\x1f".join((client_id, seller, product, premium, family, effective_iso, status)).encode(),
                    digest_size=16).hexdigest()


def check(fields: list[str], agencies: dict[str, str], _kinds: dict, _families: dict, _agencies: dict,
          width: int = _WIDTH, latest: date = date.max) -> tuple:
    """(contract_id, client_id, kind, agency_id, family, product, effective date, status, premium);
    RowRejected(column, reason) when the row cannot be stored. `width`: the file's columns;
    `latest`: the latest plausible effective date."""
    if len(fields) != width:
        if fields.__class__ is UnreadableRow:  # what the CSV reader could not read (csv_source)
            raise RowRejected(fields.column, fields.reason)
        raise RowRejected("-", f"{len(fields)} colonnes au lieu de {width}")
    # Lengths first, so that a reason quoting a value below quotes a short one.
    if any(map(gt, map(len, fields), _LIMITS)):  # in C (~1 µs); the optional column is past _LIMITS
        for i, limit, name in _MAX_LEN_I:
            if len(fields[i].strip()) > limit:
                raise RowRejected(name, f"valeur trop longue ({len(fields[i].strip())} caractères, maximum {limit})")
    if width != _WIDTH and len(fields[_WIDTH]) > _OPTIONAL_LIMIT:  # civility, the one optional column
        raise RowRejected(OPTIONAL_COLUMNS[0], f"valeur trop longue ({len(fields[_WIDTH])} caractères, "
                                               f"maximum {_OPTIONAL_LIMIT})")
    contract_id, client_id = fields[0].strip(), fields[1].strip()
    if not contract_id:
        raise RowRejected("contract_id", "identifiant de contrat manquant")
    if not client_id:
        raise RowRejected("client_id", "identifiant client manquant")
    kind = _kinds.get(fields[2]) or _lookup(fields[2], _KINDS, _kinds)  # the cache inline: ~0.1 µs each
    if kind is None:
        raise RowRejected("client_kind", f"type de client inconnu : {fields[2]!r} "
                                         "(attendu particulier, professionnel ou entreprise)")
    agency_id = _agencies.get(fields[19]) or _lookup(fields[19], agencies, _agencies)
    if agency_id is None:
        raise RowRejected("agency", f"agence inconnue : {fields[19]!r} (attendu Corniche ou Rouvière)")
    family = _families.get(fields[22]) or _lookup(fields[22], _FAMILIES, _families)
    if family is None:
        raise RowRejected("family", f"famille inconnue : {fields[22]!r} "
                                    "(attendu IARD, Santé, Prévoyance ou Épargne)")
    product = fields[23].strip()
    if not product:
        raise RowRejected("product", "produit manquant")
    effective = parse_date(fields[24])
    if effective is None:
        reason = "date d'effet manquante" if not fields[24].strip() else \
            f"date inexistante ou illisible : {fields[24]!r} (attendu {_MONTHS_OK})"
        raise RowRejected("effective_date", reason)
    if not EARLIEST_EFFECTIVE <= effective <= latest:
        raise RowRejected("effective_date", f"date d'effet invraisemblable : {fields[24].strip()!r} (attendu entre "
                                            f"le {EARLIEST_EFFECTIVE:%d/%m/%Y} et le {latest:%d/%m/%Y})")
    status = _STATUSES.get(fields[26].strip().lower())
    if status is None:
        raise RowRejected("status", f"statut inconnu : {fields[26]!r} (attendu active ou cancelled)")
    premium = None
    if fields[25]:
        premium = parse_decimal(fields[25])
        if premium is None or abs(premium) >= 10**10:
            raise RowRejected("premium_eur", f"montant illisible : {fields[25]!r}")
        if premium < 0:
            raise RowRejected("premium_eur", f"prime négative : {fields[25].strip()!r} (une prime est positive ou nulle)")
    return contract_id, client_id, kind, agency_id, family, product, effective, status, premium


# ---------------------------------------------------------------- optional columns (csv_source.OPTIONAL_COLUMNS)
CIVILITY_I = len(COLUMNS)  # where `civility` is in a row of a file that has it


def civility(fields: list[str]) -> str | None:
    """'M.', 'Mme' or None (empty or unrecognised: unknown; never a rejection, never guessed)."""
    raw = fields[CIVILITY_I]
    try:
        return _civilities[raw]  # an export spells it a handful of ways: folding each row cost ~2 µs
    except KeyError:
        value, _ = parse_civility(raw)
        if len(_civilities) < 1_000:
            _civilities[raw] = value.value if value else None
        return value.value if value else None


_civilities: dict[str, str | None] = {}
