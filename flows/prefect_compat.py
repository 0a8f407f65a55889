"""Prefect 3.8's server with the FastAPI this project pins (0.165).

Prefect 3.8.8's server passes `min_items=` / `max_items=` to `fastapi.Body` (six places); FastAPI
0.165 no longer accepts them (pydantic v2 calls them min_length / max_length), so importing
`prefect.server` fails with "Body() got an unexpected keyword argument 'min_items'". Prefect 3.9
does not install here, and the API pins FastAPI, so the server is started through this shim:
`patch_fastapi()` renames the two keywords before `prefect.server` is imported. Only the Prefect
server processes (m3 worker's local server, the test harness) need it; the client does not.
Remove it when Prefect is upgraded.

    python -m flows.prefect_compat server start --host 127.0.0.1 --port 4200   # = prefect server start
"""
from __future__ import annotations

import runpy
import sys

_RENAMES = {"min_items": "min_length", "max_items": "max_length"}


def patch_fastapi() -> None:
    import fastapi
    from fastapi import param_functions

    original = param_functions.Body
    if getattr(original, "_m3_compat", False):
        return

    def Body(*args, **kwargs):  # noqa: N802 (FastAPI's name)
        for old, new in _RENAMES.items():
            if old in kwargs:
                kwargs[new] = kwargs.pop(old)
        return original(*args, **kwargs)

    Body._m3_compat = True  # type: ignore[attr-defined]
    param_functions.Body = Body
    fastapi.Body = Body


if __name__ == "__main__":
    patch_fastapi()
    sys.argv = ["prefect", *sys.argv[1:]]
    runpy.run_module("prefect", run_name="__main__", alter_sys=True)
