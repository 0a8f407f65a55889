"""Loaded by Python at start-up when this folder is on PYTHONPATH (see flows/prefect_compat.py):
lets the Prefect server subprocesses (the test harness's, m3 worker's) import with FastAPI 0.165."""
import os

if os.environ.get("M3_PREFECT_FASTAPI_COMPAT") == "1":
    try:
        from flows.prefect_compat import patch_server

        patch_server()
    except ImportError:  # fastapi absent: nothing to patch
        pass
