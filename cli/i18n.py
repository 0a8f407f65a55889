"""French for the command line: click's and typer's own strings (the help's layout, the errors).

Our commands' texts are French in the source. What typer adds around them is not:
- typer 0.29 calls gettext (`from gettext import gettext as _`, the default text domain
  `messages`) for a few strings: the panels' titles, `[default: …]`, `[required]`,
  "Try … for help", "No such command …";
- it vendors click 8.3 (`typer._click`) with click's gettext calls taken out, so "Usage:", the
  `--help` option's text and the parser's errors are plain English literals;
- it converts values with pydantic, whose messages are English.

`activate()` (once, cheap: no import beyond what typer already loaded) binds the `messages` domain
to the French catalogue shipped here (`cli/locale/fr/LC_MESSAGES/messages.mo`, compiled from the
`.po` by `python -m cli.locale_build`), and routes the vendored click's literals and pydantic's
messages through that catalogue, with small wrappers on the pinned typer's classes (under click's
own msgids where click has one). `french()` wraps each run of `m3` (cli.main.LazyGroup.main):
gettext takes the language from the environment, so LANGUAGE=fr during the run makes the
product speak French whatever the terminal's locale; the previous value is put back after.
The catalogue's completeness and the wrappers are tested (tests/unit/test_cli__french.py).
"""
from __future__ import annotations

import gettext
import logging
import os
import re
import sys
from contextlib import contextmanager
from typing import Any, Iterator

DOMAIN = "messages"  # the text domain click's and typer's `gettext.gettext` look up
LANGUAGE = "fr"
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")


def _(message: str) -> str:
    return gettext.gettext(message)


def _n(singular: str, plural: str, n: int) -> str:
    return gettext.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a msgid for the catalogue (python -m cli.locale_build) without translating it yet."""
    return message


_active = False


def activate() -> None:
    """Bind the catalogue and put the wrappers on typer's classes; idempotent."""
    global _active
    if _active:
        return
    gettext.bindtextdomain(DOMAIN, LOCALE_DIR)
    try:
        _wrap_typer()
    except (AttributeError, ImportError):  # another typer than the pinned one: English then, never a crash
        logging.getLogger(__name__).warning("typer's own messages stay in English (typer %s not supported)",
                                            getattr(sys.modules.get("typer"), "__version__", "?"))
    _active = True


@contextmanager
def french() -> Iterator[None]:
    """gettext in French for the duration of the block (one run of `m3`)."""
    activate()
    before = os.environ.get("LANGUAGE")
    os.environ["LANGUAGE"] = LANGUAGE
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = before


# The vendored click's messages that are formatted English literals: (pattern of the English
# text, translated builder). Most builders use click's own msgid for the same message.
def _extra_args(m: re.Match) -> str:
    args = m["args"]
    return _n("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})",
              len(args.split())).format(args=args)


def _requires(m: re.Match) -> str:
    nargs = int(m["nargs"] or 1)
    return _n("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.",
              nargs).format(name=m["name"], nargs=nargs)


def _suggested(m: re.Match) -> str:  # typer's command suggestions, appended to "No such command"
    did_you_mean = _n("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 1)
    return f"{translate(m['message'] + '.')} " + did_you_mean.format(possibility=m["suggestions"])


_LITERALS: list[tuple[re.Pattern, Any]] = [
    (re.compile(r"(?P<message>.+)\. Did you mean (?P<suggestions>.+)\?", re.S), _suggested),
    (re.compile(r"Got unexpected extra argument\(s\) \((?P<args>.*)\)", re.S), _extra_args),
    (re.compile(r"Option '(?P<name>.*)' requires (?:an argument|(?P<nargs>\d+) arguments)\.", re.S), _requires),
    (re.compile(r"Option '(?P<name>.*)' does not take a value\.", re.S),
     lambda m: _("Option {name!r} does not take a value.").format(name=m["name"])),
    (re.compile(r"Argument '(?P<name>.*)' takes (?P<nargs>\d+) values\.", re.S),
     lambda m: _("Argument {name!r} takes {nargs} values.").format(name=m["name"], nargs=m["nargs"])),
    (re.compile(r"Value must be an iterable\."), lambda m: _("Value must be an iterable.")),
    (re.compile(r"Value (?P<value>.*) is not a valid (?P<label>.+)\.", re.S),
     lambda m: _("Value {value} is not a valid {label}.").format(value=m["value"], label=m["label"])),
]


def translate(message: str) -> str:
    """A message built by the vendored click from an English literal, in the catalogue's language;
    any other message (ours, French already; or gettext-translated by typer) as it is."""
    for pattern, build in _LITERALS:
        m = pattern.fullmatch(message)
        if m:
            return build(m)
    return message


# pydantic's error types (stable, unlike its English texts) -> our msgid; {input} and the
# constraint (ge, gt, le, lt) come from the error.
_PYDANTIC = {
    "int_parsing": N_("{input!r} is not a whole number."),
    "int_from_float": N_("{input!r} is not a whole number."),
    "int_type": N_("{input!r} is not a whole number."),
    "float_parsing": N_("{input!r} is not a number."),
    "float_type": N_("{input!r} is not a number."),
    "bool_parsing": N_("{input!r} is not a valid boolean (true/false, yes/no, 1/0)."),
    "bool_type": N_("{input!r} is not a valid boolean (true/false, yes/no, 1/0)."),
    "date_parsing": N_("{input!r} is not a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("{input!r} is not a date (YYYY-MM-DD)."),
    "greater_than_equal": N_("Must be at least {ge} (got {input})."),
    "greater_than": N_("Must be more than {gt} (got {input})."),
    "less_than_equal": N_("Must be at most {le} (got {input})."),
    "less_than": N_("Must be less than {lt} (got {input})."),
}


def pydantic_message(exc: Any) -> str:
    """The first validation error of a pydantic ValidationError, in the catalogue's language."""
    from typer._display import _escape_control_characters

    errors = exc.errors()
    if not errors:
        return _escape_control_characters(str(exc))
    first = errors[0]
    msgid = _PYDANTIC.get(first.get("type", ""))
    if msgid is None:
        return _("Refused value: {detail}").format(detail=_escape_control_characters(str(first["msg"])))
    fields = {**(first.get("ctx") or {}), "input": first.get("input")}
    return _escape_control_characters(_(msgid).format(**fields))


def _wrap_typer() -> None:
    """Route the vendored click's English literals through the catalogue (typer==0.29.2, pinned)."""
    from typer import _coercion, _param_types, core
    from typer._click import core as click_core
    from typer._click import exceptions, formatting

    write_usage = formatting.HelpFormatter.write_usage

    def _write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, f"{_('Usage:')} " if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = _write_usage

    get_help_option = click_core.Command.get_help_option

    def _get_help_option(self, ctx):
        option = get_help_option(self, ctx)  # made once by the vendored click's help_option()
        if option is not None:
            option.help = _("Show this message and exit.")
        return option

    click_core.Command.get_help_option = _get_help_option

    collect_usage_pieces = core.TyperGroup.collect_usage_pieces

    def _collect_usage_pieces(self, ctx):
        return [_("COMMAND [ARGS]...") if p == "COMMAND [ARGS]..." else p for p in collect_usage_pieces(self, ctx)]

    core.TyperGroup.collect_usage_pieces = _collect_usage_pieces

    def _usage_message(self) -> str:
        return translate(self.message)

    exceptions.UsageError.format_message = _usage_message  # ctx.fail, BadOptionUsage, BadArgumentUsage

    def _bad_parameter_message(self) -> str:
        hint = self.param_hint if self.param_hint is not None else (
            self.param.get_error_hint() if self.param is not None else None)
        if hint is None:
            return _("Invalid value: {message}").format(message=translate(self.message))
        return _("Invalid value for {param_hint}: {message}").format(
            param_hint=exceptions._join_param_hints(hint), message=translate(self.message))

    exceptions.BadParameter.format_message = _bad_parameter_message

    def _missing_message(self) -> str:
        hint = self.param_hint if self.param_hint is not None else (
            self.param.get_error_hint() if self.param is not None else None)
        hint = exceptions._join_param_hints(hint)
        kind = self.param_type or (self.param.param_type_name if self.param is not None else None)
        missing = {"argument": _("Missing argument"), "option": _("Missing option"),
                   "parameter": _("Missing parameter")}.get(kind) or _("Missing {param_type}").format(param_type=kind)
        extra = self.param.get_missing_message(ctx=self.ctx) if self.param is not None else ""
        if extra and extra.startswith("Choose from:\n\t"):
            extra = _("Choose from:\n\t{choices}").format(choices=extra[len("Choose from:\n\t"):])
        text = f"{missing} : {hint}." if hint else f"{missing}."
        detail = ". ".join(m for m in (self.message, extra) if m)
        return f"{text} {detail}" if detail else text

    exceptions.MissingParameter.format_message = _missing_message

    def _no_such_option_message(self) -> str:
        default = f"No such option: {exceptions._escape_control_characters(self.option_name)}"
        message = _("No such option {name!r}.").format(name=self.option_name) if self.message == default \
            else translate(self.message)
        if not self.possibilities:
            return message
        shown = ", ".join(repr(p) for p in sorted(self.possibilities))
        return f"{message} " + _n("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)",
                                  len(self.possibilities)).format(possibility=shown, possibilities=shown)

    exceptions.NoSuchOption.format_message = _no_such_option_message

    _coercion.get_error_msg = pydantic_message
    _param_types.get_error_msg = pydantic_message
