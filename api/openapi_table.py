"""The routes table of docs/api.md, generated from the app's OpenAPI.

    python -m api.openapi_table            # print the table
    python -m api.openapi_table --write    # replace it in docs/api.md, between the markers

tests/unit/test_docs_api__routes_table.py fails when the table in docs/api.md is not this one.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
START, END = "<!-- routes:start -->", "<!-- routes:end -->"
_SCOPED = {"advisor", "manager"}  # roles that see only their own agency (api/roles.py)


def schema() -> dict[str, Any]:
    """The app's OpenAPI document (no database is touched)."""
    from sqlalchemy import create_engine

    from api.app import create_app

    return create_app(create_engine("sqlite://")).openapi()


def _roles(operation: dict[str, Any]) -> str:
    roles = operation.get("x-roles")
    if roles is None:
        return "public"
    if "x-permission" not in operation:
        return "any signed-in user"
    return ", ".join(f"{r}*" if r in _SCOPED else r for r in roles) + f" (`{operation['x-permission']}`)"


def _errors(operation: dict[str, Any]) -> str:
    return " ".join(s for s in operation["responses"] if int(s) >= 400)


def table(doc: dict[str, Any]) -> str:
    lines = ["| method | route (under `/api`) | operationId | roles | errors | summary |",
             "|---|---|---|---|---|---|"]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            route = path.removeprefix("/api")
            lines.append(f"| {method.upper()} | `{route}` | `{operation['operationId']}` | {_roles(operation)} | "
                         f"{_errors(operation)} | {operation['summary']} |")
    return "\n".join(lines) + "\n"


def table_in(text: str) -> str | None:
    """The table between the markers, or None when the markers are missing."""
    found = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), text, re.S)
    return found.group(1) if found else None


def replaced(text: str, new: str) -> str:
    if table_in(text) is None:
        raise ValueError(f"{DOC.name} needs the markers {START} and {END}")
    return re.sub(re.escape(START) + r"\n.*?" + re.escape(END), lambda _: f"{START}\n{new}{END}", text, flags=re.S)


def main(argv: list[str]) -> int:
    new = table(schema())
    if "--write" in argv:
        DOC.write_text(replaced(DOC.read_text(encoding="utf-8"), new), encoding="utf-8")
        print(f"{DOC} : tableau des routes mis à jour")
    else:
        sys.stdout.write(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
