"""No personal data in any log: run last (tests/hardening/conftest.py moves it to the end of the
run), it scans every log record the run produced in this process (the application's `m3.*`
loggers at INFO and above, libraries' warnings, Prefect's flow-run logs), the stderr of every
server the hardening suite started and of every `m3` process it forked, for the test data's
client names, emails and phones: the factories' values, the demo book's (the default book of
`./dev run`, and the exports the suite imports), and what each hardening test seeded.

A whole-suite run (`./dev test`) scans the logs of the whole suite; `-m hardening` those of the
hardening suite.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tests import factories
from tests.hardening import logscan
from tests.import_csv import BASE

pytestmark = pytest.mark.hardening

MIN_NAME = 4  # shorter names ("Léa", "Hugo") would match ordinary words
# Words a log prints as values (Python and JSON literals): Hypothesis draws them as names too
# ("False" as a fuzzed last name), and a log's `'business_day': False` is not personal data.
LITERALS = frozenset({"True", "False", "None", "true", "false", "null", "none", "NULL", "nan", "inf"})
ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("api", "cli", "config", "flows", "notifications", "states", "store")


def _code_words() -> frozenset[str]:
    """Every word of the application's own source. Hypothesis draws text from the constants of
    the code under test, so a fuzzed "name" can be "cohort", which every cohort log line says:
    a one-word name that is a word of the program is not told apart from the program's text."""
    words: set[str] = set()
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            words.update(_WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(words)


def _factory_values() -> tuple[set, set, set]:
    names, emails, phones = set(), set(), set()
    for values in (*factories.BY_KIND.values(), BASE):
        names.update(values.get(k) for k in ("last_name", "company_name") if values.get(k))
        names.add(f"{values['first_name']} {values['last_name']}")
        emails.add(values["email"])
        phones.add(values["phone"])
    return names, emails, phones


def _demo_values(tmp_path) -> tuple[set, set, set]:
    """The default demo book (`m3 demo-data`, what ./dev run imports and several tests use)."""
    from store.demo_book import write_demo_book

    path = tmp_path / "demo_book.csv"
    write_demo_book(path, contracts=3000, seed=42, today=date(2026, 11, 21))
    return logscan.book_values(path)


_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d(?:[ .]?\d){7,14}")


def _digits(phone: str) -> str:
    """A phone as its national digits: +33612345678, 06 12 34 56 78 and 0612345678 alike."""
    d = re.sub(r"\D", "", phone)
    return "0" + d[2:] if d.startswith("33") and len(d) == 11 else d


class Finder:
    """Finds the test data in a text by tokens (words, emails, phone-like digit runs) and set
    look-ups: a few thousand names against megabytes of logs in seconds."""

    def __init__(self, names, emails, phones) -> None:
        self.names = {" ".join(n.split()) for n in names
                      if n and len(n.strip()) >= MIN_NAME and n.strip() not in LITERALS}
        self.longest = max((len(n.split()) for n in self.names), default=1)
        self.emails = {e.strip().lower() for e in emails if e and "@" in e}
        self.phones = {_digits(p) for p in phones if p and len(_digits(p)) >= 8}

    def __len__(self) -> int:
        return len(self.names) + len(self.emails) + len(self.phones)

    def find(self, text: str):
        for m in _EMAIL.finditer(text):
            if m.group(0).lower().strip(".") in self.emails:
                yield "email", m
        for m in _PHONE.finditer(text):
            if _digits(m.group(0)) in self.phones:
                yield "phone", m
        words = list(_WORD.finditer(text))
        for i, w in enumerate(words):
            for n in range(1, self.longest + 1):
                if i + n > len(words):
                    break
                phrase = " ".join(x.group(0) for x in words[i:i + n])
                if phrase in self.names:
                    yield "name", w


def test_zz_logs__no_personal_data_in_any_log_of_the_run(tmp_path, figures):
    names, emails, phones = _factory_values()
    code = _code_words()
    seeded = logscan.values()
    # What the tests seeded, drawn by Hypothesis: a one-word value that is a word of the program
    # is left out (the factories' and the demo book's names are chosen, and always looked for).
    drawn = {n for n in seeded["name"] if not (len(n.split()) == 1 and n.strip() in code)}
    for extra in (_demo_values(tmp_path), (drawn, seeded["email"], seeded["phone"])):
        names |= extra[0]
        emails |= extra[1]
        phones |= extra[2]
    finder = Finder(names, emails, phones)
    texts = list(logscan.records())
    for what, path in logscan.files():
        if path.exists():
            texts.append((what, path.read_text(errors="replace")))
    found: list[str] = []
    scanned = 0
    for where, text in texts:
        scanned += len(text)
        for kind, m in finder.find(text):
            start = max(0, m.start() - 80)
            found.append(f"{where}: {kind} {m.group(0)!r} in …{text[start:m.end() + 80]!r}")
        if len(found) > 40:
            break
    figures(f"log scan: {len(texts)} log records and files, {scanned / 1e6:.1f} MB, for {len(finder)} names, "
            f"emails and phones of the test data: {len(found)} found")
    assert not found, "personal data in the logs:\n" + "\n".join(found[:40])
