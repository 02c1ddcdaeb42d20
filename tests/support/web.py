"""Using the web view over HTTP as a browser does, signed in through tests/support/sessions.py
(the one way in, so that a change to signing in is made there and nowhere else)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.support import sessions
from tests.support.stack import Stack


@dataclass
class WebSession:
    client: httpx.AsyncClient  # holds the session cookie
    csrf: str  # the CSRF token the session's forms carry

    async def post_form(self, path: str, fields: dict[str, str]) -> httpx.Response:
        return await self.client.post(path, data={"csrf": self.csrf, **fields})

    async def post_json(self, path: str, body: bytes) -> httpx.Response:
        """JSON as upload.js sends it: the CSRF token in its header."""
        headers = {"Content-Type": "application/json", "X-CSRF-Token": self.csrf}
        return await self.client.post(path, content=body, headers=headers)


async def sign_in(stack: Stack, token: str) -> WebSession:
    """A client of `stack` signed in with `token`, and the CSRF token of its forms."""
    client = stack.client()
    return WebSession(client, await sessions.sign_in(client, token))
