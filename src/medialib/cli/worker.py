"""`medialib worker`: background tasks only, no HTTP (FastAPI is never imported here)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any

import click
import uvloop

from medialib import logs
from medialib.bootstrap import Runtime, prepare, start_worker
from medialib.cli.common import fail_cleanly
from medialib.cli.malloc import give_large_buffers_back
from medialib.cli.worker_metrics import serve_metrics
from medialib.settings import Settings
from medialib.tasks.processes import die_with_parent

log = logging.getLogger("medialib.workers")


@click.command()
@click.option("--concurrency", default=None, type=click.IntRange(min=1), help="Chunks at once.")
@fail_cleanly
def worker(concurrency: int | None) -> None:
    """Work background tasks only (no HTTP)."""
    die_with_parent()
    give_large_buffers_back()
    overrides: dict[str, Any] = {"worker_concurrency": concurrency} if concurrency else {}
    settings = Settings(**overrides)
    logs.configure(settings.log_format)
    uvloop.run(_work(settings))


async def _work(settings: Settings) -> None:
    rt = Runtime.from_settings(settings)
    await prepare(rt, migrate_apart=True)  # this process never holds alembic
    # Listening first: a port taken stops the worker before it claims any task.
    listener = await serve_metrics(settings, rt.metrics_allow) if settings.metrics_port else None
    runner = await start_worker(rt)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker %s ready (pid %d)", runner.id, os.getpid(), extra={"worker": runner.id})
    await stop.wait()
    await runner.stop()
    if listener is not None:
        await listener.cleanup()
    await rt.close()
