"""A real webhook receiver on 127.0.0.1 that checks Standard Webhooks signatures."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.sites import serve_on_loopback


@dataclass
class Delivery:
    headers: dict[str, str]
    body: dict[str, Any]
    verified: bool
    answered: int
    raw: bytes = b""  # the body as it came
    at: float = 0.0  # when it came (time.monotonic)


@dataclass
class Receiver:
    secret: str | None = None
    # Statuses to answer, in order, before answering 204 for good.
    failures: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    _queue: asyncio.Queue[Delivery] = field(default_factory=asyncio.Queue)
    _runner: web.AppRunner | None = None
    port: int = 0

    def url(self, path: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def start(self) -> Receiver:
        return await self.start_on(0)

    async def start_on(self, port: int) -> Receiver:
        """Listen on `port` (0: any free one), e.g. again where a stopped receiver was."""
        app = web.Application()
        app.router.add_post("/{path:.*}", self._receive)
        self._runner, self.port = await serve_on_loopback(app, port)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = False
        body: dict[str, Any] = {}
        if self.secret is not None:
            try:
                body = Webhook(self.secret).verify(raw, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        else:
            body = json.loads(raw)
        status = self.failures.pop(0) if self.failures else 204
        if status in (301, 302, 307, 308):
            response = web.Response(status=status, headers={"Location": self.url("moved")})
        else:
            response = web.Response(status=status)
        delivery = Delivery(headers, body, verified, status, raw, time.monotonic())
        self.deliveries.append(delivery)
        self._queue.put_nowait(delivery)
        return response

    async def next(self, timeout: float = 30) -> Delivery:
        """The next delivery, awaited (no polling)."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def delivered(self, timeout: float = 30) -> Delivery:
        """The next delivery the receiver accepted (skipping the ones it failed on purpose)."""
        while True:
            delivery = await self.next(timeout)
            if 200 <= delivery.answered < 300:
                return delivery
