"""`medialib doctor [--repair]` on both stacks (SQLite and a folder, PostgreSQL and S3): each
kind of inconsistency made by hand is found with its key and entries, the exit code says so,
and a repair removes only what nothing references while the library goes on serving."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from medialib.db.tables import assets, uploads
from medialib.library.assets import variant_prefix
from medialib.library.tasks import SWEEP, start_sweeps
from medialib.media.storage import Storage
from tests.support import media
from tests.support.commands import medialib
from tests.support.entries import image_entry, import_entries, new_key
from tests.support.stack import Stack

LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def doctor(stack: Stack, *options: str) -> subprocess.CompletedProcess[str]:
    return medialib(stack, "doctor", *options)


async def _entry(stack: Stack, key: str) -> str:
    await stack.put_asset(key)
    [result] = await import_entries(await stack.api(), [image_entry(key)])
    assert result["ok"], result
    entry_id: str = result["record"]["id"]
    return entry_id


async def _row(stack: Stack, table: sa.Table, **values: object) -> None:
    async with stack.runtime.db.write() as conn:
        await conn.execute(table.insert().values(**values))


async def _exists(storage: Storage, key: str) -> bool:
    return await storage.head(key) is not None


async def test_doctor_finds_each_inconsistency_and_repair_removes_only_the_unreferenced(
    make_stack: Callable[..., Awaitable[Stack]],
) -> None:
    stack = await make_stack()
    storage = stack.runtime.storage
    kept_key, broken_key = new_key(), new_key()
    kept = await _entry(stack, kept_key)
    client = stack.client()
    rendition = await client.get(f"/media/{kept_key}", params={"w": "20"})
    assert rendition.status_code == 200
    [kept_variant] = await storage.list_keys(variant_prefix(kept_key))
    healthy = doctor(stack, "--min-age", "0")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "all is well" in healthy.stdout

    broken = await _entry(stack, broken_key)
    await storage.delete(broken_key)  # a row without its object
    stray = new_key()
    await stack.put_asset(stray)  # an object without a row
    orphan = f"{variant_prefix(new_key())}/0123abcd.webp"
    await storage.put(orphan, media.webp())  # a rendition of an original that is gone
    expired, pending = new_key(), new_key()
    for key, expires_at in ((expired, LONG_AGO), (pending, dt.datetime.now(dt.UTC))):
        await stack.put_asset(key)
        expires = expires_at + dt.timedelta(hours=1)
        await _row(stack, uploads, key=key, project="demo", expires_at=expires)
    unheld, released = new_key(), new_key()
    for key, released_at in ((unheld, None), (released, LONG_AGO)):
        await stack.put_asset(key)
        await _row(
            stack,
            assets,
            key=key,
            project="demo",
            mime_type="image/jpeg",
            revoked=False,
            created_at=LONG_AGO,
            released_at=released_at,
        )

    found = doctor(stack, "--min-age", "0")

    assert found.returncode == 1, found.stderr
    lines = found.stdout.splitlines()
    assert f"row-without-object: {broken_key}  project demo  entries {broken}" in found.stdout
    expected = {
        "object-without-row": stray,
        "orphaned-rendition": orphan,
        "expired-upload": expired,
        "asset-without-entry": unheld,
        "released-not-deleted": released,
        "row-without-object": broken_key,
    }
    problems = {line.split(": ")[0]: line.split(": ")[1].split()[0] for line in lines[:-1]}
    assert problems == expected
    assert "6 problem(s) left, 5 removable with --repair" in lines[-1]
    assert pending not in found.stdout
    assert kept_key not in found.stdout
    young = doctor(stack)  # by default, objects and rows of the last hour are left out
    assert stray not in young.stdout
    assert orphan not in young.stdout

    repaired = doctor(stack, "--repair", "--min-age", "0")

    assert repaired.returncode == 1  # the entry without its object is still there
    for key in (stray, orphan, expired, unheld, released):
        assert f"removed {_problem(expected, key)}: {key}" in repaired.stdout
        assert not await _exists(storage, key), key
    for key in (kept_key, kept_variant, pending):
        assert await _exists(storage, key), key
    async with stack.runtime.db.read() as conn:
        left = set((await conn.execute(sa.select(assets.c.key))).scalars())
        waiting = set((await conn.execute(sa.select(uploads.c.key))).scalars())
    assert left == {kept_key, broken_key}
    assert waiting == {pending}
    served = await client.get(f"/media/{kept_key}")
    assert served.status_code == 200
    assert served.content == media.STORED_JPEG
    again = await client.get(f"/media/{kept_key}", params={"w": "20"})
    assert again.content == rendition.content
    api = await stack.api()
    assert (await api.get(f"/api/2026-05/mediaLibrary/{kept}")).status_code == 200
    assert (await api.get(f"/api/2026-05/mediaLibrary/{broken}")).status_code == 200

    after = doctor(stack, "--min-age", "0")
    assert after.returncode == 1
    assert [line.split(": ")[0] for line in after.stdout.splitlines()[:-1]] == [
        "row-without-object"
    ]


def _problem(expected: dict[str, str], key: str) -> str:
    return next(problem for problem, found in expected.items() if found == key)


async def _pending_sweeps(stack: Stack) -> int:
    """Sweeps waiting in the task queue (the local runner's table, or procrastinate's)."""
    if stack.database_url:
        query = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :n AND status = 'todo'"
    else:
        query = "SELECT count(*) FROM tasks WHERE name = :n AND state = 'todo'"
    async with stack.runtime.db.read() as conn:
        return int((await conn.execute(sa.text(query), {"n": SWEEP})).scalar_one())


async def test_the_periodic_sweep_removes_expired_uploads_and_orphaned_renditions_only(
    make_stack: Callable[..., Awaitable[Stack]],
) -> None:
    stack = await make_stack(sweep_every=0.2)
    storage = stack.runtime.storage
    kept_key = new_key()
    await _entry(stack, kept_key)
    assert (await stack.client().get(f"/media/{kept_key}", params={"w": "20"})).status_code == 200
    [kept_variant] = await storage.list_keys(variant_prefix(kept_key))
    now = dt.datetime.now(dt.UTC)
    expired, late, pending, stray = new_key(), new_key(), new_key(), new_key()
    # expired long ago; expired an hour ago (may still be registered); not expired yet
    for key, expires_at in ((expired, LONG_AGO), (late, now), (pending, now)):
        await stack.put_asset(key)
        expires = expires_at + (dt.timedelta(hours=1) if key == pending else dt.timedelta())
        await _row(stack, uploads, key=key, project="demo", expires_at=expires)
    await stack.put_asset(stray)  # not the sweep's: only `medialib doctor --repair` removes it
    orphan = f"{variant_prefix(new_key())}/0123abcd.webp"
    await storage.put(orphan, media.webp())

    async with asyncio.timeout(30):
        while await _exists(storage, orphan) or await _exists(storage, expired):
            await asyncio.sleep(0.05)

    for key in (kept_key, kept_variant, late, pending, stray):
        assert await _exists(storage, key), key
    async with stack.runtime.db.read() as conn:
        waiting = set((await conn.execute(sa.select(uploads.c.key))).scalars())
    assert waiting == {late, pending}


async def test_processes_starting_together_start_one_chain_of_sweeps(
    make_stack: Callable[..., Awaitable[Stack]],
) -> None:
    stack = await make_stack()
    # Once it answers, its worker has started the sweeps: the first in an hour.
    assert (await stack.client().get("/healthz")).status_code == 200
    assert await _pending_sweeps(stack) == 1

    for _ in range(3):  # more processes start
        await stack.runtime.db.transact(lambda tx: start_sweeps(tx, 3600.0))

    assert await _pending_sweeps(stack) == 1
    # A process started with a shorter period (MEDIALIB_SWEEP_EVERY changed): its chain wins.
    orphan = f"{variant_prefix(new_key())}/0123abcd.webp"
    await stack.runtime.storage.put(orphan, media.webp())
    await stack.runtime.db.transact(lambda tx: start_sweeps(tx, 0.2))
    async with asyncio.timeout(30):
        while await _exists(stack.runtime.storage, orphan):
            await asyncio.sleep(0.05)
