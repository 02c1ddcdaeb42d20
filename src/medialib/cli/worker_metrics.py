"""A `medialib worker`'s own `GET /metrics` (MEDIALIB_METRICS_PORT), for the scaled-out setup,
where workers run apart from any server: what this process counted, to the addresses of
MEDIALIB_METRICS_ALLOW only. The database's gauges (jobs, tasks) are the server's to tell: each
worker telling them too would count the same rows again. A small aiohttp server on the worker's
own event loop (aiohttp is loaded for fetching already; the HTTP layer never is)."""

from __future__ import annotations

from aiohttp import web

from medialib import metrics
from medialib.errors import ConfigError
from medialib.settings import Settings


async def serve_metrics(settings: Settings, allow: metrics.Networks) -> web.AppRunner:
    """Listening on MEDIALIB_METRICS_HOST:MEDIALIB_METRICS_PORT until the runner is cleaned up."""
    assert settings.metrics_port is not None

    async def exposition(request: web.Request) -> web.Response:
        if not metrics.may_scrape(request.remote, allow):
            details = {"client": "This address may not read the metrics (MEDIALIB_METRICS_ALLOW)."}
            body = {"status": 403, "error": "Forbidden", "error_details": details}
            return web.json_response(body, status=403)
        return web.Response(
            body=metrics.exposition(None), headers={"Content-Type": metrics.CONTENT_TYPE}
        )

    app = web.Application()
    app.router.add_get("/metrics", exposition)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.metrics_host, settings.metrics_port).start()
    except OSError as exc:
        await runner.cleanup()
        where = f"{settings.metrics_host}:{settings.metrics_port}"
        raise ConfigError(
            f"MEDIALIB_METRICS_HOST/MEDIALIB_METRICS_PORT: cannot listen on {where}: {exc.strerror}"
        ) from exc
    return runner
