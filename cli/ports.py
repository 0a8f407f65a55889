"""Is a TCP port free to listen on? Checked before anything starts (`./dev run`, `m3 serve`)."""
from __future__ import annotations

import socket

HOST = "127.0.0.1"


def taken(port: int, host: str = HOST) -> bool:
    """True when a server could not listen on host:port (another process holds it).

    SO_REUSEADDR as uvicorn sets it: a port left in TIME_WAIT by a server just stopped is
    free for it, and must not be reported taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def message(port: int, variable: str, what: str) -> str:
    return (f"Le port {port} ({what}, {variable}) est déjà utilisé par un autre programme : "
            f"un Suivi M+3 tourne peut-être déjà. Arrêtez-le, ou choisissez un autre port, par exemple "
            f"{variable}={port + 1} ./dev run")
