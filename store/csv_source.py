"""Reading the CRM (Lagon) contract export as a stream of rows.

The export comes as UTF-8 or Windows-1252, separated by `,` or `;`. Files mixing both encodings
exist (a UTF-8 file edited in an old spreadsheet), so the text is decoded as UTF-8 and any byte
that is not valid UTF-8 is read as cp1252 (a cp1252 accent, alone between ASCII letters, is
never valid UTF-8). That is done by a codec error handler, so decoding stays in C: decoding
line by line in Python cost a tenth of a million-row import. Reading is buffered by the io
module (a few KiB ahead): memory does not grow with the file.

A file that cannot be opened, is empty, or whose header is not exactly the expected one raises
`SourceError`: that is the only failure that stops an import (every other problem is a row's).
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

COLUMNS: tuple[str, ...] = (
    "contract_id", "client_id", "client_kind", "last_name", "first_name", "company_name", "address",
    "postal_code", "city", "phone", "email", "marital_status", "professional_status", "siret",
    "naf_code", "activity", "turnover_eur", "headcount", "insurance_contact", "agency", "advisor",
    "seller", "family", "product", "effective_date", "premium_eur", "status",
)
# Columns a file may carry or not (exports of older CRM versions lack them). When present they
# are yielded after COLUMNS, in this order; when absent the import leaves what they set alone.
OPTIONAL_COLUMNS: tuple[str, ...] = ("civility",)

# Quoted fields may hold long free text (addresses, activities); the csv default (128 KiB) is fine,
# but a runaway quote must not swallow the whole file into one field.
_MAX_FIELD = 1 << 20


class SourceError(Exception):
    """The file itself cannot be read: missing, unreadable, empty, or a wrong header."""


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    # cp1252 leaves 5 bytes undefined: those show as U+FFFD rather than losing the line.
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("cp1252", errors="replace"), exc.end


codecs.register_error("m3_cp1252_fallback", _cp1252_fallback)


def sniff_delimiter(header: str) -> str:
    # The header is 27 known names with no separator inside them: the more frequent separator wins.
    return ";" if header.count(";") > header.count(",") else ","


def check_header(names: list[str]) -> dict[str, int]:
    """Position of every expected column (and of the optional ones present); SourceError naming
    what is missing or unknown."""
    names = [n.strip() for n in names]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS and n not in OPTIONAL_COLUMNS]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append("colonnes manquantes : " + ", ".join(missing))
    if unknown:
        problems.append("colonnes inconnues : " + ", ".join(repr(u) for u in unknown))
    if duplicated:
        problems.append("colonnes en double : " + ", ".join(duplicated))
    if problems:
        raise SourceError("en-tête invalide — " + " ; ".join(problems))
    return {n: i for i, n in enumerate(names)}


class CsvSource:
    """An opened export: `rows()` yields (line number, fields in COLUMNS order), once.

    `bytes_read` follows the stream, for a progress bar; `total_bytes` is the file's size.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.total_bytes = self.path.stat().st_size
            self._fh: BinaryIO = self.path.open("rb")
        except OSError as exc:
            raise SourceError(f"fichier illisible : {exc.strerror or exc} ({self.path})") from exc
        try:
            self._read_header()
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> None:
        self._text = io.TextIOWrapper(self._fh, encoding="utf-8", errors="m3_cp1252_fallback", newline="")
        try:
            header = self._text.readline()
        except OSError as exc:
            raise SourceError(f"fichier illisible : {exc}") from exc
        header = header.removeprefix("\ufeff").rstrip("\r\n")
        if not header.strip():
            raise SourceError("fichier vide ou sans en-tête")
        self.delimiter = sniff_delimiter(header)
        names = next(csv.reader([header], delimiter=self.delimiter))
        position = check_header(names)
        self.optional = tuple(c for c in OPTIONAL_COLUMNS if c in position)  # present, in yield order
        self.columns = COLUMNS + self.optional
        self._order = [position[c] for c in self.columns]
        # Already in the expected order (the usual case): rows need no reordering.
        self._identity = self._order == list(range(len(self.columns)))

    @property
    def bytes_read(self) -> int:
        """How far the file has been read (buffered ahead by at most a few KiB)."""
        try:
            return self._fh.tell()
        except (OSError, ValueError):  # closed: all of it
            return self.total_bytes

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number of the row's first line, fields in `columns` order: COLUMNS, then the
        optional columns the file has). A row with the wrong number of fields is yielded as is
        (the importer rejects it with its line); blank lines are skipped."""
        csv.field_size_limit(_MAX_FIELD)
        reader = csv.reader(self._text, delimiter=self.delimiter)
        width, order, identity = len(self.columns), self._order, self._identity
        end = 1  # the header's line
        try:
            for fields in reader:
                start, end = end + 1, reader.line_num + 1
                if not fields:
                    continue
                if identity or len(fields) != width:
                    yield start, fields
                else:
                    yield start, [fields[i] for i in order]
        except csv.Error as exc:
            raise SourceError(f"ligne {end + 1} : CSV illisible ({exc})") from exc
        except OSError as exc:
            raise SourceError(f"fichier illisible : {exc}") from exc
        finally:
            self.close()

    def close(self) -> None:
        getattr(self, "_text", self._fh).close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
