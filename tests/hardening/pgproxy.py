"""A TCP proxy on loopback in front of the shared PostgreSQL server, to make it unreachable on
demand without touching the server itself (other engineers' tests use it).

It runs its own asyncio loop in a thread of the test process. `pause()` closes every proxied
connection and stops listening, so new connections are refused at once (what a server that
went away looks like to a client); `resume()` listens again on the same port.
"""
from __future__ import annotations

import asyncio
import socket
import threading


class PgProxy:
    def __init__(self, target_port: int = 5432, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pg-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    def start(self) -> PgProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def _call(self, coro, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    async def _pause(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()  # no more listening: new connections are refused
        for w in list(self._writers):
            w.transport.abort()  # a reset, as when the server or the network goes away
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    def pause(self) -> None:
        self._call(self._pause())

    def resume(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        try:
            self._call(self._pause())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
