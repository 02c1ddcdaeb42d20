"""A real uvicorn server on a loopback port, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn

from medialib.api.protocol import HTTP_OPTIONS


class LiveServer:
    """Serves an ASGI app over real HTTP on 127.0.0.1.

    The socket is bound and listening before the server thread starts, so a client can send a
    request at once: the kernel holds the connection until the app (after its start-up) accepts.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        sock: socket.socket | None = None,
        http: dict[str, Any] = HTTP_OPTIONS,
    ) -> None:
        self.app = app
        self.sock = sock or listening_socket(host)
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", loop="asyncio", **http)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """A socket bound to a free port and listening: its port is known before the app is made
    (an app whose settings must name its own address)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(1024)
    return sock
