"""Reading the CRM (Lagon) contract export as a stream of rows.

The export comes as UTF-8 or Windows-1252, separated by `,` or `;`. Files mixing both encodings
exist (a UTF-8 file edited in an old spreadsheet), so the text is decoded as UTF-8 and any byte
that is not valid UTF-8 is read as cp1252 (a cp1252 accent, alone between ASCII letters, is
never valid UTF-8). That is done by a codec error handler, so decoding stays in C: decoding
line by line in Python cost a tenth of a million-row import. Reading is buffered by the io
module (a few KiB ahead): memory does not grow with the file.

A file that cannot be opened, is empty, or whose header is not exactly the expected one raises
`SourceError`: that is the only failure that stops an import (every other problem is a row's).

A row the CSV reader cannot make sense of is yielded as an `UnreadableRow` (why, and what was
read of it), and reading goes on (issue 9, hole 5); the importer rejects it with its line:
- a quoted field may span lines (an address on two lines), but a row spans at most
  `max_row_lines` lines (M3_IMPORT_MAX_QUOTED_LINES). An opening quote that is not closed
  within them, or not before the end of the file, rejects the row from its first line, and
  reading resumes at the line after it. So does a row spanning lines that comes out with the
  wrong number of fields, or with a field holding a line break past its column's limit: both
  are what a stray quote makes of the lines up to the next quote;
- a physical line longer than MAX_LINE characters cannot be a row (every column has a limit far
  below): it is rejected and skipped without being held in memory whole;
- a NUL character: no database text column can store it (PostgreSQL refuses it), so the row is
  rejected, naming the column (issue 9, hole 2).
The cost on the common path is a few operations per line (measured: ~0.6 µs a row, of ~50).
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from functools import partial
from itertools import chain
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

# A physical line longer than this cannot be a row: the longest a valid row can be is the sum of
# the column limits (store.import_rows.LIMITS, about 2,600 characters). Lines are read at most
# this much at a time, so a 5 MB field is never held whole; a field, even spanning lines, is
# never longer either (the csv module's own limit).
MAX_LINE = 1 << 16
MAX_ROW_LINES = 5  # the default of M3_IMPORT_MAX_QUOTED_LINES: the lines one row may span
KEEP_CHARS = 1_000  # of a rejected row's field, or of an unreadable line: what the rejects file keeps
_EOL = ("\n", "\r")


class SourceError(Exception):
    """The file itself cannot be read: missing, unreadable, empty, or a wrong header."""


class UnreadableRow(list):
    """Yielded by `CsvSource.rows` in place of a row's fields when the row cannot be read.

    Empty, so it never has the expected width: the importer's width check is where it is told
    apart (store.import_rows.check), at no cost to the rows that can be read. `content`: what was
    read of the row (its fields, or its first line), cut to KEEP_CHARS each, for the rejects file.
    """

    def __init__(self, column: str, reason: str, content: list[str]):
        super().__init__()
        self.column, self.reason, self.content = column, reason, content


def kept(values) -> list[str]:
    """A rejected row's values as the rejects file keeps them: each cut to KEEP_CHARS."""
    return [v if len(v) <= KEEP_CHARS else v[:KEEP_CHARS] + "…" for v in values]


class _Broken(Exception):
    """Raised by the line feed of `CsvSource.rows` to abandon the row being read."""

    def __init__(self, line: int, kind: str, long_line: str = "", carry: str | None = None):
        super().__init__(kind)
        self.line, self.kind, self.long_line, self.carry = line, kind, long_line, carry


class _LongLine(str):
    """A physical line past MAX_LINE (its first MAX_LINE characters; the rest was skipped), put
    back in the feed when the lines after a broken row are read again."""


_TOO_LONG = (f"ligne trop longue (plus de {MAX_LINE:,} caractères) : aucune colonne n'en admet autant ; "
             "la lecture reprend à la ligne suivante").replace(",", " ")


def _open_quote(b: _Broken, span: int) -> str:
    if b.kind == "span":
        return (f"guillemet non fermé : la ligne se poursuivrait sur plus de {span} lignes "
                "(M3_IMPORT_MAX_QUOTED_LINES) ; la lecture reprend à la ligne suivante")
    if b.kind == "eof":
        return "guillemet non fermé avant la fin du fichier ; la lecture reprend à la ligne suivante"
    return (f"guillemet non fermé : la ligne se poursuit jusqu'à la ligne {b.line}, trop longue ; "
            "la lecture reprend à la ligne suivante")


def _skip_rest(read, piece: str) -> str | None:
    """Reads past the rest of a physical line whose first MAX_LINE characters were `piece`.
    Returns the next line when reading it was the only way to find where this one ended (a
    piece cut just after a CR), for the feed to read it next."""
    while len(piece) >= MAX_LINE:
        if piece.endswith("\n"):
            return None
        if piece.endswith("\r"):  # CR LF cut between the two, or a CR line end
            after = read()
            return None if after in ("\n", "") else after
        piece = read()
    return None  # a shorter piece ended the line, or the file


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
    `max_row_lines`: the most lines one row may span (a quoted field with line breaks);
    `limits`: {column: longest value}, which a field spanning lines must keep to.
    """

    def __init__(self, path: str | Path, *, max_row_lines: int = MAX_ROW_LINES,
                 limits: Mapping[str, int] | None = None):
        self.path = Path(path)
        self.max_row_lines = max(1, max_row_lines)
        self._limits = dict(limits or {})
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
            header = self._text.readline(MAX_LINE)
        except OSError as exc:
            raise SourceError(f"fichier illisible : {exc}") from exc
        if len(header) >= MAX_LINE:
            raise SourceError("en-tête illisible : la première ligne n'en finit pas (ce n'est pas un export du CRM)")
        header = header.removeprefix("\ufeff").rstrip("\r\n")
        if not header.strip():
            raise SourceError("fichier vide ou sans en-tête")
        self.delimiter = sniff_delimiter(header)
        names = next(csv.reader([header], delimiter=self.delimiter))
        position = check_header(names)
        self._names = [n.strip() for n in names]  # in the file's order
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
        (the importer rejects it with its line); blank lines are skipped; a row that cannot be
        read comes as an `UnreadableRow` (see the module's doc), and reading goes on."""
        csv.field_size_limit(MAX_LINE)
        width, order, identity, delimiter = len(self.columns), self._order, self._identity, self.delimiter
        lines = iter(partial(self._text.readline, MAX_LINE), "")
        n = 2  # the next line's number (the header is line 1)
        try:
            for line in lines:
                if '"' in line or "\x00" in line or len(line) >= MAX_LINE:
                    # A quote (a field may span lines), a NUL or a runaway line: the csv module
                    # reads it, and the lines after it that its row takes.
                    n = yield from self._read_quoted(chain((line,), lines), n, lines)
                    continue
                # No quote: the csv module would split on the delimiter, nothing else; str.split
                # does the same at ~2 µs less a row (docs/performance-import.md).
                text = line.rstrip("\r\n")
                if text:
                    fields = text.split(delimiter)
                    yield n, fields if identity or len(fields) != width else [fields[i] for i in order]
                n += 1
        except OSError as exc:
            raise SourceError(f"fichier illisible : {exc}") from exc
        finally:
            self.close()

    def _read_quoted(self, source: Iterator[str], first: int, lines: Iterator[str]):
        """Yields the rows the csv module reads from `source` (a line `rows` could not split,
        numbered `first`, then the file's next lines), until one ends with nothing left to read
        again; returns the number of the next line, for `rows` to go on."""
        width, order, identity, span = len(self.columns), self._order, self._identity, self.max_row_lines
        read = partial(self._text.readline, MAX_LINE)
        nxt = first  # the row being read starts at line `first`; `nxt`: the next line's number
        head = ""  # the row's first line
        taken: list[str] = []  # its lines after the first: read again if the row breaks
        nul = False  # a NUL character in one of its lines
        again_until = first  # the last line to read here before going back to `rows`

        def feed(src):
            # csv.reader pulls the lines of one row from here, so this sees where a row spans
            # lines, and stops a runaway quote after `span` lines by raising _Broken.
            nonlocal nxt, head, nul
            for line in src:
                n = nxt
                nxt = n + 1
                if len(line) >= MAX_LINE:
                    carry = None if line.__class__ is _LongLine else _skip_rest(read, line)
                    raise _Broken(n, "long", line, carry)
                if n == first:
                    head = line
                else:
                    taken.append(line)
                    if n - first >= span:
                        raise _Broken(n, "span")
                if "\x00" in line:
                    nul = True
                yield line
            if nxt != first:  # the file ended inside the row: in a quoted field
                raise _Broken(nxt, "eof")

        while True:
            again: list[str] = []  # the lines after a broken row, read again
            try:
                for fields in csv.reader(feed(source), delimiter=self.delimiter):
                    start = first
                    first = nxt
                    if taken:  # the row spans lines: a quoted field with line breaks
                        problem = self._spanning_problem(fields, width, start, first - 1)
                        if problem is not None:
                            yield start, UnreadableRow(*problem, kept([head.rstrip("\r\n")]))
                            again, first, nxt = taken[:], start + 1, start + 1
                            break
                        taken.clear()
                    if nul:
                        nul = False
                        if fields:
                            yield start, self._nul_row(fields, width)
                    elif fields:
                        yield start, fields if identity or len(fields) != width else [fields[i] for i in order]
                    if first > again_until:
                        return first  # back to splitting lines
                else:
                    return first  # the end of the file
            except _Broken as b:
                if b.kind == "long" and b.line == first:  # the row's first line is past MAX_LINE
                    yield first, UnreadableRow("-", _TOO_LONG, kept([b.long_line[:KEEP_CHARS]]))
                    again, first, nxt = [b.carry] if b.carry else [], first + 1, first + 1
                else:  # a quote left open: the row is rejected, its next lines are read again
                    yield first, UnreadableRow("-", _open_quote(b, span), kept([head.rstrip("\r\n")]))
                    again = taken[:]
                    if b.kind == "long":
                        again += [_LongLine(b.long_line), *([b.carry] if b.carry else [])]
                    first = nxt = first + 1
            except csv.Error as exc:  # a field past the csv module's limit (spanning lines)
                yield first, UnreadableRow("-", f"CSV illisible ({exc}) ; la lecture reprend à la ligne "
                                                "suivante", kept([head.rstrip("\r\n")]))
                again, first, nxt = taken[:], first + 1, first + 1
            if not again:
                return first
            taken.clear()
            nul = False
            again_until = first + len(again) - 1
            source = chain(again, lines)

    def _spanning_problem(self, fields: list[str], width: int, start: int, end: int) -> tuple[str, str] | None:
        """(column, reason) when a row spanning lines is what a stray quote made of them."""
        if len(fields) != width:
            return "-", (f"guillemet mal placé : la ligne se poursuit jusqu'à la ligne {end} et compte "
                         f"{len(fields)} colonnes au lieu de {width} ; la lecture reprend à la ligne suivante")
        for name, value in zip(self._names, fields):
            if "\n" in value or "\r" in value:
                limit = self._limits.get(name)
                if limit is not None and len(value.strip()) > limit:
                    return name, (f"guillemet mal placé : le champ se poursuit jusqu'à la ligne {end} et dépasse "
                                  f"sa limite ({len(value.strip())} caractères, maximum {limit}) ; la lecture "
                                  "reprend à la ligne suivante")
        return None

    def _nul_row(self, fields: list[str], width: int) -> UnreadableRow:
        column = next((n for n, v in zip(self._names, fields) if "\x00" in v), "-")
        if len(fields) == width and not self._identity:
            fields = [fields[i] for i in self._order]
        return UnreadableRow(column, "caractère NUL (octet 0x00) : aucune base ne peut l'enregistrer",
                             kept([v.replace("\x00", "\u2400") for v in fields]))

    def close(self) -> None:
        getattr(self, "_text", self._fh).close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
