"""`python -m cli.locale_build`: compile the command line's French catalogue (the .po) into the .mo
that `cli.i18n` loads; `--check` changes nothing and exits 1 on any problem (also a test):

- a msgid of the installed click or typer (their `_()`/`ngettext()` calls), or of `cli/i18n.py`,
  missing from the .po, untranslated or fuzzy; an entry of the .po that no source uses any more;
- a translation whose `{placeholders}` are not the msgid's (it would raise KeyError at run time);
- a committed .mo that is not the compilation of the .po (edit the .po, then run this).

Uses Babel (a test dependency, pinned in pyproject.toml): the command line itself needs only the .mo.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import string
import sys
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from cli import i18n

PO = Path(i18n.LOCALE_DIR) / i18n.LANGUAGE / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
MO = PO.with_suffix(".mo")
LIBRARIES = ("click", "typer")  # their gettext calls; typer's vendored click (typer/_click) has none left
OWN_KEYWORDS = {**DEFAULT_KEYWORDS, "_n": (1, 2)}  # cli/i18n.py: _(), _n(), N_()


def _package_files(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    return sorted(p for root in spec.submodule_search_locations for p in Path(root).rglob("*.py"))


def source_msgids() -> dict[str | tuple[str, str], str]:
    """Every msgid the command line can look up -> where (file:line) it is used first."""
    found: dict[str | tuple[str, str], str] = {}
    files = [(p, DEFAULT_KEYWORDS) for name in LIBRARIES for p in _package_files(name)]
    files.append((Path(i18n.__file__), OWN_KEYWORDS))
    for path, keywords in files:
        for lineno, message, _comments, _context in extract_from_file("python", str(path), keywords=keywords):
            found.setdefault(message, f"{path.name}:{lineno}")
    return found


def catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale=i18n.LANGUAGE, domain=i18n.DOMAIN)


def compiled() -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog(), use_fuzzy=False)
    return out.getvalue()


def _fields(text: str) -> set[str]:
    try:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<malformed>"}


def problems() -> list[str]:
    cat = catalog()
    entries = {m.id: m for m in cat if m.id}
    wanted = source_msgids()
    found = []
    for msgid, where in wanted.items():
        entry = entries.get(msgid)
        if entry is None:
            found.append(f"missing from {PO.name}: {msgid!r} ({where})")
        elif entry.fuzzy or not all(entry.string if isinstance(entry.string, tuple) else (entry.string,)):
            found.append(f"untranslated or fuzzy: {msgid!r}")
    for msgid in entries.keys() - wanted.keys():
        found.append(f"obsolete (no source uses it): {msgid!r}")
    for msgid, entry in entries.items():
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        allowed = set().union(*(_fields(i) for i in ids))
        for text in entry.string if isinstance(entry.string, tuple) else (entry.string,):
            if text and not _fields(text) <= allowed:
                found.append(f"placeholders of {text!r} are not those of {msgid!r}")
    if not MO.exists() or MO.read_bytes() != compiled():
        found.append(f"{MO.name} is stale: run python -m cli.locale_build")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.locale_build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on any problem")
    args = parser.parse_args(argv)
    if not args.check:
        MO.write_bytes(compiled())
        print(f"{MO} written")
    issues = problems()
    for issue in issues:
        print(issue, file=sys.stderr)
    return 1 if issues else 0


if __name__ == "__main__":
    raise SystemExit(main())
