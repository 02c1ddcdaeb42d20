"""The ASGI application: routers, error handlers, and the process's runtime they share."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from medialib import __version__
from medialib.api import errors, openapi
from medialib.api.access_log import AccessLog
from medialib.api.bodies import BodyCaps, CappedBodies
from medialib.api.deps import ApiState
from medialib.api.limits import RateLimits
from medialib.api.rendition_hits import RenditionHits
from medialib.api.request_metrics import RequestMetrics
from medialib.api.routes import (
    docs,
    events,
    health,
    imports,
    media,
    media_library,
    metrics,
    project,
    uploads,
)
from medialib.api.versions import VersionTable
from medialib.bootstrap import Runtime, prepare, start_worker
from medialib.library.renditions import Renditions
from medialib.media.renditions.outputs import EngineLimits
from medialib.settings import Settings

DESCRIPTION = """\
A media library with a bulk import API. Every `/api/{version}` endpoint takes
`Authorization: Bearer <token>` (make one with `medialib token create`).
"""


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, *, worker: bool = True
) -> FastAPI:
    """The app; with `worker`, the server process also works the background tasks."""
    rt = runtime or Runtime.from_settings(settings or Settings())
    rt.secret  # noqa: B018  read (or made, at the first start) before anything is served
    state = ApiState(
        runtime=rt,
        versions=VersionTable(rt.settings.retired_versions),
        rate_limits=RateLimits(rt.settings.rate_limit, rt.settings.rate_limit_burst),
        renditions=_renditions(rt),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await prepare(rt)
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
        # /docs is routes/docs.py's: Swagger UI from the package's own files, not a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = state
    # Innermost: a cached rendition is answered inside the caps, the metrics and the log.
    app.add_middleware(RenditionHits, renditions=state.renditions)
    app.add_middleware(CappedBodies, caps=_body_caps(rt.settings))
    app.add_middleware(RequestMetrics)  # outside the caps: their 413s are counted too
    app.add_middleware(AccessLog)  # outside the caps: a 413 is a request too
    errors.install(app)
    openapi.install(app)
    app.include_router(uploads.router)
    app.include_router(media_library.router)
    app.include_router(imports.router_for(rt.kinds))
    app.include_router(media.router)
    app.include_router(events.router)
    app.include_router(project.router)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(metrics.router)
    return app


def _body_caps(settings: Settings) -> BodyCaps:
    largest_upload = max(
        settings.image_max_bytes,
        settings.animated_max_bytes,
        settings.file_max_bytes,
        settings.video_max_bytes,
    )
    return BodyCaps(api=settings.max_body_bytes, upload=largest_upload)


def _renditions(rt: Runtime) -> Renditions:
    """The image service: only the HTTP process renders, so only it loads libvips."""
    settings = rt.settings
    limits = EngineLimits(
        max_pixels=settings.image_max_pixels,
        max_side=settings.rendition_max_side,
        # An animation's frames are all decoded: beyond this, its first frame is rendered (and
        # a rendition making more is refused).
        max_frames_pixels=4 * settings.image_max_pixels,
        max_frames=settings.rendition_max_frames,
        max_seconds=settings.render_timeout,
    )
    at_once = settings.renders_at_once or os.cpu_count() or 1
    keep = settings.variants_per_asset
    return Renditions(rt.db, rt.storage, limits, rt.image_service, at_once, keep)
