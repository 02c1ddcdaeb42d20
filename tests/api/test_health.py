"""Liveness and readiness."""

from __future__ import annotations

from tests.support.stack import Stack


async def test_healthz_and_readyz_answer(stack: Stack) -> None:
    client = stack.client()

    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok", "database": "ok"}
