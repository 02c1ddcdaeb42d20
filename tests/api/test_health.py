"""Liveness and readiness."""

from __future__ import annotations

from tests.support.stack import Stack


async def test_healthz_and_readyz_answer(stack: Stack) -> None:
    client = stack.client()

    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok", "database": "ok"}


async def test_each_api_version_has_the_original_apis_health_check(make_stack) -> None:
    stack = await make_stack(retired_versions=["v1"])
    client = stack.client()  # no token: load balancers ask it
    assert (await client.get("/api/2026-05/health")).json() == {"status": "ok"}
    assert (await client.get("/api/beta/health")).json() == {"status": "ok"}
    assert (await client.get("/api/1999-01/health")).status_code == 404
    retired = await client.get("/api/v1/health")
    assert retired.status_code == 410
    assert retired.json()["error"] == "Gone"
