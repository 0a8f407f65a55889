"""`m3 serve`: the HTTP server with uvicorn: the pages, the JSON API, its documentation (/docs)."""
from __future__ import annotations

import typer

from cli.main import app


@app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", help="L'adresse d'écoute"),
          port: int = typer.Option(None, help="Le port (par défaut : M3_HTTP_PORT, 8000)"),
          reload: bool = typer.Option(False, help="Redémarrer quand le code change (développement)")) -> None:
    """Lancer le serveur web : les pages sur /, l'API sur /api, sa documentation sur /docs.

    La documentation fonctionne hors ligne. Le schéma de la base est migré avant la première requête.
    """
    import uvicorn

    from cli import ports
    from config import get_settings
    from store.db import get_engine

    settings = get_settings()
    port = port or settings.http_port
    if ports.taken(port, host):
        typer.echo(ports.message(port, "M3_HTTP_PORT", "serveur web"), err=True)
        raise typer.Exit(1)
    from api.sessions import SessionSecretError, session_secret

    try:  # refuse the built-in development secret before listening (anyone could forge a session)
        session_secret(settings)
    except SessionSecretError as exc:
        typer.echo(f"erreur : {exc}", err=True)
        raise typer.Exit(2) from None
    if settings.today:
        typer.echo(f"Date simulée : {settings.today} (M3_TODAY)", err=True)
    get_engine(migrate=True)  # migrate before accepting requests
    typer.echo(f"Suivi M+3 sur http://{host}:{port}/ (API : http://{host}:{port}/docs)", err=True)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, reload=reload,
                log_level="info", access_log=False)
