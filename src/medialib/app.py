"""The ASGI application: routers, error handlers and the runtime they share."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from medialib import __version__
from medialib.api import errors, health, imports, media, media_library, openapi
from medialib.db.migrate import ensure_schema
from medialib.projects import sync_projects
from medialib.runtime import Runtime
from medialib.settings import Settings
from medialib.tasks.local import LocalQueue, LocalWorker
from medialib.tasks.procrastinate_runner import ProcrastinateQueue, ProcrastinateWorker

# uvicorn's HTTP settings: h11 bounds how much of a request's head it buffers (httptools, the
# faster parser, has no such bound, so one request could make it hold gigabytes of headers).
HTTP_OPTIONS: dict[str, Any] = {"http": "h11", "h11_max_incomplete_event_size": 64 * 1024}

DESCRIPTION = """\
A media library with a bulk import API. Every `/api/{version}` endpoint takes
`Authorization: Bearer <token>` (make one with `medialib token create`).
"""


async def start_worker(rt: Runtime) -> LocalWorker | ProcrastinateWorker:
    """This process works tasks too: procrastinate's worker on PostgreSQL, the local runner
    on SQLite."""
    rt.settings.temp_dir.mkdir(parents=True, exist_ok=True)
    concurrency = rt.settings.worker_concurrency
    runner: LocalWorker | ProcrastinateWorker
    if isinstance(rt.queue, ProcrastinateQueue):
        runner = ProcrastinateWorker(rt, rt.queue, concurrency=concurrency)
    else:
        assert isinstance(rt.queue, LocalQueue)
        runner = LocalWorker(rt, rt.queue, concurrency=concurrency)
    await runner.start()
    return runner


async def bootstrap(rt: Runtime) -> None:
    """Schema and project rows, before the first request."""
    await ensure_schema(rt.db)
    await sync_projects(rt.db, rt.config)


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, *, worker: bool = True
) -> FastAPI:
    """The app; with `worker`, the server process also works the background tasks."""
    rt = runtime or Runtime.from_settings(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await bootstrap(rt)
        runner = await start_worker(rt) if worker else None
        # Everything alive now lives as long as the process: keep it out of the collector's
        # way, which otherwise rescans it while a large import allocates.
        gc.freeze()
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            await rt.close()

    app = FastAPI(
        title="medialib",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.runtime = rt
    errors.install(app)
    openapi.install(app)
    app.include_router(media_library.router)
    app.include_router(imports.router)
    app.include_router(media.router)
    app.include_router(health.router)
    return app
