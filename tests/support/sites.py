"""aiohttp servers on a free port of 127.0.0.1, for the origin and the webhook receiver."""

from __future__ import annotations

from aiohttp import web


async def serve_on_loopback(
    app: web.Application, port: int = 0, *, cancel_on_disconnect: bool = False
) -> tuple[web.AppRunner, int]:
    """`cancel_on_disconnect`: a handler is cancelled when its client closes the connection
    (aiohttp's `handler_cancellation`), so a server can tell that a client gave up."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=cancel_on_disconnect)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, bound
