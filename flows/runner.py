"""Run a job through Prefect when a Prefect server is configured, otherwise in-process.

Measured with Prefect 3: with no server configured, every process starts a temporary one
(15-27 s, sometimes past its 20 s time-out) that schedules nothing. So the command line never
lets Prefect do that: with `M3_PREFECT_API_URL` or `PREFECT_API_URL` set, the flow runs through
that server (tracked, with its artifact); with neither, the same code runs directly and says so.
`import prefect` alone costs ~1.75 s, so it is imported only on the Prefect path.
"""
from __future__ import annotations

import os
from typing import Any

from config import get_settings

IN_PROCESS = "exécuté dans ce processus (aucun serveur Prefect configuré)"


def prefect_api_url() -> str | None:
    return get_settings().prefect_api_url or os.environ.get("PREFECT_API_URL") or None


def run(name: str, **params: Any) -> tuple[dict[str, Any], str, str]:
    """(result, markdown summary, how it ran)."""
    url = prefect_api_url()
    if url:
        os.environ["PREFECT_API_URL"] = url
        from flows.prefect_flows import FLOWS  # noqa: PLC0415 (lazy: import prefect costs ~1.75 s)

        result = FLOWS[name](**params)
        return result, result.pop("markdown", ""), f"exécuté en flow Prefect sur {url} (résumé dans son artefact)"
    from flows.jobs import JOBS

    result, markdown = JOBS[name](**params)
    return result, markdown, IN_PROCESS
