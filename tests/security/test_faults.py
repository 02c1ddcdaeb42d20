"""Faults, for real: the database away for a while, the object store away in the middle of an
import, a webhook receiver that is down, a full disk. The service answers clearly while they
last, resumes when they end, and never refers to an asset that is not whole."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from medialib.api.app import create_app
from medialib.bootstrap import Runtime, prepare
from medialib.db.migrate import migrate
from medialib.db.tables import delivery_attempts, media_entries
from medialib.settings import Settings
from tests.support import media, postgres
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.proxy import TcpProxy
from tests.support.s3 import MotoS3
from tests.support.server import LiveServer
from tests.support.stack import Stack, stack_config, start_stack

QUICK_RECOVERY: dict[str, Any] = {
    "stalled_after": 2.0,
    "task_retry_base": 0.2,
    "fetch_allow": ["127.0.0.1/32"],
    "fetch_retry_base": 0.01,
    "webhook_retry_delays": [0.2] * 7,
    "rate_limit": 10_000.0,
}


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


@pytest.fixture
def database() -> Iterator[str]:
    url = postgres.create_database("medialib_faults")
    yield url
    postgres.drop_database(url)


async def _serve(settings: Settings) -> tuple[Stack, LiveServer]:
    runtime = Runtime.from_settings(settings)
    await prepare(runtime)
    server = LiveServer(create_app(runtime=Runtime.from_settings(settings))).start()
    return Stack("postgres", settings, runtime, server), server


def _asked(origin: Origin, *paths: str) -> Any:
    async def check() -> bool:
        return all(origin.hits[p] for p in paths)

    return check


async def _retried(stack: Stack, task: str) -> bool:
    """A procrastinate job of `task` failed an attempt and waits for the next one."""
    async with stack.runtime.db.read() as conn:
        attempts = await conn.scalar(
            sa.text("SELECT max(attempts) FROM procrastinate_jobs WHERE task_name = :task"),
            {"task": task},
        )
    return bool(attempts)


async def _until(check: Any, seconds: float = 60) -> None:
    """For states that only a status shows: look again, a short pause apart, until true."""
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.05)


@pytest.mark.postgres
async def test_the_database_away_for_a_while(
    database: str, s3_server: MotoS3, origin: Origin, tmp_path: Path
) -> None:
    proxy = await TcpProxy(5432).start()
    through_proxy = database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    home = tmp_path / "home"
    home.mkdir()
    (home / "medialib.yaml").write_text(yaml.safe_dump(stack_config()))
    direct = Settings(home=home, database_url=database, config=home / "medialib.yaml")
    direct_rt = Runtime.from_settings(direct)
    await migrate(direct_rt.db)
    settings = Settings(
        home=home,
        database_url=through_proxy,
        config=home / "medialib.yaml",
        storage_url=f"s3://{s3_server.new_bucket()}/media",
        s3_endpoint=s3_server.endpoint,
        **QUICK_RECOVERY,
    )
    stack, _ = await _serve(settings)
    importer = await Importer.open(stack, "demo")
    gate = asyncio.Event()
    held_path = path("held.jpg")
    held = origin.gated(held_path, media.jpeg(), gate)
    job_id = await importer.start([item(held, "held")])
    await _until(_asked(origin, held_path))  # the download is under way

    await proxy.cut()
    entry = await importer.api.get("/api/2026-05/mediaLibrary/abc")
    ready = await stack.client().get("/readyz")
    new_job = await importer.api.post(
        "/api/2026-05/import/images", json={"systemName": "s", "images": [item(held, "x")]}
    )
    gate.set()  # the download finishes while the database is away ...
    await origin.sent[held_path].wait()
    await proxy.refused_beyond(proxy.refused)  # ... and is met by it once the body is in
    await proxy.restore()
    delivery = await importer.receiver.delivered(timeout=90)

    for answer in (entry, ready, new_job):
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "5"
        assert answer.json()["error"] == "Service Unavailable"
    assert delivery.body["id"] == job_id
    assert delivery.body["state"] == "success"
    status = await importer.settled(job_id)
    assert status["images"][0]["state"] == "success"
    await importer.close()
    await stack.close()
    await direct_rt.close()
    await proxy.stop()


@pytest.mark.postgres
async def test_the_object_store_away_in_the_middle_of_an_import(
    database: str, s3_server: MotoS3, origin: Origin, tmp_path: Path
) -> None:
    proxy = await TcpProxy(s3_server.port).start()
    home = tmp_path / "home"
    home.mkdir()
    (home / "medialib.yaml").write_text(yaml.safe_dump(stack_config()))
    bucket = s3_server.new_bucket()
    settings = Settings(
        home=home,
        database_url=database,
        config=home / "medialib.yaml",
        storage_url=f"s3://{bucket}/media",
        s3_endpoint=f"http://127.0.0.1:{proxy.port}",
        **QUICK_RECOVERY,
    )
    runtime = Runtime.from_settings(settings)
    await migrate(runtime.db)
    await runtime.close()
    stack, _ = await _serve(settings)
    importer = await Importer.open(stack, "demo")
    gate = asyncio.Event()
    bodies = {f"pic-{i}": media.jpeg(40 + i, 30) for i in range(6)}
    items = [
        item(origin.gated(path(f"{name}.jpg"), body, gate), name) for name, body in bodies.items()
    ]
    job_id = await importer.start(items)

    await proxy.cut()
    gate.set()  # every download finishes while the store is away, and the chunk's puts fail:
    await _until(lambda: _retried(stack, "process_items"))  # it is on its way to a 2nd attempt
    await proxy.restore()
    await importer.receiver.delivered(timeout=120)
    status = await importer.settled(job_id)

    assert [i["state"] for i in status["images"]] == ["success"] * len(bodies)
    stored = set(s3_server.keys(bucket))
    async with stack.runtime.db.read() as conn:
        assets = (await conn.execute(sa.select(media_entries.c.asset))).scalars().all()
    for asset in assets:
        assert f"media/{asset['key']}" in stored  # every referenced object exists ...
        body = await stack.runtime.storage.get(asset["key"])
        assert body is not None
        data = b"".join([chunk async for chunk in body.chunks])
        assert hashlib.sha256(data).hexdigest() == asset["sha256"]  # ... whole
    assert proxy.refused >= 1
    await importer.close()
    await stack.close()
    await proxy.stop()


async def test_a_webhook_receiver_down_for_hours_gets_it_later(make_stack, origin: Origin) -> None:
    # The real schedule waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; here seconds stand for
    # hours: three quick failures, then time to bring the receiver up.
    stack = await make_stack(webhook_retry_delays=[0.05, 0.05, 0.05, 3, 3, 3, 3])
    importer = await Importer.open(stack, "demo")
    await importer.receiver.stop()  # down: connections are refused
    job_id = await importer.start([item(origin.file(path("w.jpg"), media.jpeg()), "w")])

    async def three_failed() -> bool:
        status = await importer.status(job_id)
        return bool(status.get("webhook", {}).get("attempts", 0) >= 3)

    await _until(three_failed)
    await importer.receiver.start_on(importer.receiver.port)  # up again, same address
    delivery = await importer.receiver.delivered(timeout=30)
    status = await importer.settled(job_id)

    assert delivery.body["id"] == job_id
    assert status["webhook"]["state"] == "delivered"
    assert status["webhook"]["attempts"] >= 4
    async with stack.runtime.db.read() as conn:
        attempts = (
            await conn.execute(
                sa.select(delivery_attempts.c.status_code, delivery_attempts.c.error)
                .where(delivery_attempts.c.delivery_id == f"msg_{job_id}")
                .order_by(delivery_attempts.c.attempt)
            )
        ).all()
    assert all(code is None and "connect" in error for code, error in attempts[:3])
    assert attempts[-1].status_code == 204
    await importer.close()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB filesystem for the local store (tmpfs); skipped where mounting is not allowed."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


async def test_a_full_disk_fails_items_clearly_and_corrupts_nothing(
    tiny_disk: Path, origin: Origin, tmp_path: Path
) -> None:
    # The local store is the one-machine setup's, so this runs on SQLite only.
    stack = await start_stack(
        "sqlite",
        tmp_path / "home",
        storage_url=(tiny_disk / "storage").as_uri(),
        task_retry_base=0.05,
    )
    importer = await Importer.open(stack, "demo")
    small = origin.file(path("small.jpg"), media.jpeg(64, 48))
    first, _ = await importer.run([item(small, "before")])
    kept = first["images"][0]["image"]
    too_big = origin.file(path("big.png"), media.png(90, 90) + b"\0" * 2_500_000)

    full, _ = await importer.run([item(too_big, "too-big")])
    after = [item(origin.file(path(f"m{i}.jpg"), media.jpeg(300, 300)), f"m{i}") for i in range(3)]
    recovered, _ = await importer.run(after)

    [refused] = full["images"]
    assert (refused["state"], refused["reasonCode"]) == ("failed", "storage_error")
    assert [i["state"] for i in recovered["images"]] == ["success"] * 3
    served = await stack.client().get(kept["originalUrl"].removeprefix("http://media.test"))
    assert served.status_code == 200
    assert served.content == media.jpeg(64, 48)
    async with stack.runtime.db.read() as conn:
        assets = (await conn.execute(sa.select(media_entries.c.asset))).scalars().all()
    assert len(assets) == 4
    for asset in assets:
        body = await stack.runtime.storage.get(asset["key"])
        assert body is not None
        data = b"".join([chunk async for chunk in body.chunks])
        assert hashlib.sha256(data).hexdigest() == asset["sha256"]
    assert not list((tiny_disk / "tmp").glob("*.part"))  # no download left behind
    await importer.close()
    await stack.close()
