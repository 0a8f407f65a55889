"""`m3 serve`: the HTTP API (and, later, the pages) with uvicorn."""
from __future__ import annotations

import typer

from cli.main import app


@app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on"),
          port: int = typer.Option(8000, help="Port"),
          reload: bool = typer.Option(False, help="Restart on code changes (development)")) -> None:
    """Run the API server; OpenAPI documentation at /docs."""
    import uvicorn

    from store.db import get_engine

    get_engine(migrate=True)  # migrate before accepting requests
    typer.echo(f"Suivi M+3 API on http://{host}:{port}/docs", err=True)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, reload=reload,
                log_level="info", access_log=False)
