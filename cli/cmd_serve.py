"""`m3 serve`: the HTTP server with uvicorn: the pages, the JSON API, its documentation (/docs)."""
from __future__ import annotations

import typer

from cli.main import app


@app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", help="L'adresse d'écoute"),
          port: int = typer.Option(None, help="Le port (par défaut : M3_HTTP_PORT, 8000)"),
          reload: bool = typer.Option(False, help="Redémarrer quand le code change (développement)"),
          workers: int = typer.Option(None, min=1, max=64,
                                      help="Nombre de processus serveurs (par défaut : M3_HTTP_WORKERS, 1)")) -> None:
    """Lancer le serveur web : les pages sur /, l'API sur /api, sa documentation sur /docs.

    La documentation fonctionne hors ligne. Le schéma de la base est migré avant la première requête.
    """
    import uvicorn

    from cli import ports
    from config import get_settings
    from store.db import get_engine

    settings = get_settings()
    port = port or settings.http_port
    workers = workers or settings.http_workers
    if workers > 1 and reload:
        typer.echo("erreur : --reload ne va qu'avec un seul processus (--workers 1)", err=True)
        raise typer.Exit(2)
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
    session_secret(settings)  # created now, once, so every worker process reads the same one
    typer.echo(f"Suivi M+3 sur http://{host}:{port}/ (API : http://{host}:{port}/docs)"
               + (f", {workers} processus" if workers > 1 else ""), err=True)
    # Several processes share the port (uvicorn's supervisor restarts one that dies). What they must
    # agree on lives in the database or the data folder: sessions' secret, failed-login counts; on
    # SQLite they take turns on the file's write lock (bounded wait, then 503 with Retry-After).
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, reload=reload,
                workers=workers if workers > 1 else None, log_level="info", access_log=False)
