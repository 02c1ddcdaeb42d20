"""`medialib analyze` beside a running server, on both stacks: it starts the run over a library
imported before the analysis, waits for it with --wait and says what was done; it refuses an
unknown project and a server with the analysis turned off, in a line each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from medialib.db.tables import perceptual_hashes
from tests.support.analysed import forget_analysis
from tests.support.commands import medialib
from tests.support.entries import image_entry, import_entries, new_key
from tests.support.stack import Stack


async def test_analyze_works_through_the_older_entries_and_waits(
    make_stack: Callable[..., Awaitable[Stack]],
) -> None:
    stack = await make_stack(image_analysis=True)
    api = await stack.api("demo")
    keys = [new_key() for _ in range(20)]  # more than one batch of 16
    for key in keys:
        await stack.put_asset(key)
    results = await import_entries(api, [image_entry(key) for key in keys])
    ids = [r["record"]["id"] for r in results]
    await registered_analysis(stack, len(ids))  # done, so that it cannot undo what follows
    await forget_analysis(stack, "demo", ids)

    done = await asyncio.to_thread(medialib, stack, "analyze", "--project", "demo", "--wait")

    assert done.returncode == 0, done.stderr
    assert "demo: started, 20 entries to look at" in done.stdout
    assert "demo: done, 20 of 20 entries looked at, 20 pictures analysed" in done.stdout
    for media_id in ids:
        asset = (await api.get(f"/api/2026-05/mediaLibrary/{media_id}")).json()["asset"]
        assert {"perceptualHash", "placeholder", "color", "focalPoint"} <= set(asset)
    async with stack.runtime.db.read() as conn:
        held = await conn.scalar(
            sa.select(sa.func.count()).where(perceptual_hashes.c.project == "demo")
        )
    assert held == 20
    page = await stack.client().get("/ui/operations")  # signed out: the page asks to sign in
    assert page.status_code in (200, 303, 401)


async def test_analyze_refuses_an_unknown_project_and_a_server_without_analysis(
    make_stack: Callable[..., Awaitable[Stack]],
) -> None:
    stack = await make_stack(image_analysis=True)

    unknown = await asyncio.to_thread(medialib, stack, "analyze", "--project", "nope")
    off = await asyncio.to_thread(medialib, stack, "analyze", MEDIALIB_IMAGE_ANALYSIS="false")

    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "medialib: error: no project 'nope'"
    assert off.returncode == 2
    assert "MEDIALIB_IMAGE_ANALYSIS is off" in off.stderr


async def registered_analysis(stack: Stack, count: int) -> None:
    """Wait for the analysis a registration starts after its commit (it sends no event)."""

    async def hashes() -> int:
        async with stack.runtime.db.read() as conn:
            found = await conn.scalar(
                sa.select(sa.func.count()).where(perceptual_hashes.c.project == "demo")
            )
        return int(found or 0)

    async with asyncio.timeout(60):
        while await hashes() < count:
            await asyncio.sleep(0.02)
