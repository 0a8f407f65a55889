"""Prefect 3.8's server with the FastAPI this project pins (0.165).

Prefect 3.8.8's server passes `min_items=` / `max_items=` to `fastapi.Body` (six places); FastAPI
0.165 no longer accepts them (pydantic v2 calls them min_length / max_length), so importing
`prefect.server` fails with "Body() got an unexpected keyword argument 'min_items'". And its
client sends explicit nulls for optional body parameters, which FastAPI 0.165 rejects (422). Prefect 3.9
does not install here, and the API pins FastAPI, so the server is started through this shim:
`patch_fastapi()` renames the two keywords before `prefect.server` is imported. Only the Prefect
server processes (m3 worker's local server, the test harness) need it; the client does not.
Those are subprocesses, so `server_env()` puts flows/compat_site on PYTHONPATH: its
sitecustomize applies the patch at start-up when M3_PREFECT_FASTAPI_COMPAT=1.
Remove all this when Prefect is upgraded.

    python -m flows.prefect_compat server start --host 127.0.0.1 --port 4200   # = prefect server start
"""
from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

SITE = Path(__file__).with_name("compat_site")

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

    # Prefect's client sends explicit nulls for optional body parameters (offset, flow_runs...);
    # FastAPI used to read null as "use the default", 0.165 validates it and answers 422.
    from copy import deepcopy

    from fastapi.dependencies import utils

    validate = utils._validate_value_with_model_field

    def _validate(*, field, value, values, loc):  # noqa: ANN001
        if value is None and not field.field_info.is_required():
            return deepcopy(field.default), []
        return validate(field=field, value=value, values=values, loc=loc)

    utils._validate_value_with_model_field = _validate


def patch_sqlalchemy() -> None:
    """SQLAlchemy 2.1 (pinned here) refuses a bulk INSERT whose rows carry a key that is a hybrid
    property without a `bulk_dml` setter; Prefect's scheduler inserts flow runs with a "state"
    key (FlowRun.state is a hybrid; the states are inserted afterwards), which SQLAlchemy 2.0
    ignored. Without this the server schedules nothing ("Can't evaluate bulk DML statement")."""
    from prefect.server.database import orm_models

    for cls in (orm_models.FlowRun, orm_models.TaskRun):
        hybrid = cls.__dict__.get("state")
        if hybrid is not None and getattr(hybrid, "bulk_dml_setter", None) is None:
            hybrid.bulk_dml_setter = lambda _cls, _mapping, _value: None  # in place: server process only


def patch_server() -> None:
    patch_fastapi()
    patch_sqlalchemy()


def server_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: os.environ, updated in place) with the patch applied in every child process."""
    env = os.environ if env is None else env
    env["M3_PREFECT_FASTAPI_COMPAT"] = "1"
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(SITE) not in paths:
        env["PYTHONPATH"] = os.pathsep.join([str(SITE), *paths])
    return env


if __name__ == "__main__":
    patch_server()
    sys.argv = ["prefect", *sys.argv[1:]]
    runpy.run_module("prefect", run_name="__main__", alter_sys=True)
