"""`medialib serve`: the API, with worker processes beside it that work the tasks.

The server itself only serves HTTP when it has worker processes: a request is answered by a
process whose memory and event loop no import is using (and the server never loads the fetcher).
With `--workers 0` it works the tasks itself, one process for everything."""

from __future__ import annotations

import os
from typing import Any

import click
import uvicorn

from medialib import logs, metrics
from medialib.api.protocol import http_options
from medialib.auth import tokens
from medialib.bootstrap import Runtime, prepare
from medialib.cli.common import fail_cleanly, with_runtime
from medialib.cli.malloc import give_large_buffers_back
from medialib.settings import Settings
from medialib.tasks.processes import WorkerProcesses
from medialib.web.app import create_app


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default 8000).")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=0),
    help="Worker processes beside the server (default: one per core; 0: the server works them).",
)
@click.option("--no-worker", is_flag=True, help="Serve HTTP only; run `medialib worker` apart.")
@fail_cleanly
def serve(host: str | None, port: int | None, workers: int | None, no_worker: bool) -> None:
    """Serve the API and work the imports (migrating SQLite, printing a first token)."""
    give_large_buffers_back()
    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    extra = 0 if no_worker else (workers if workers is not None else os.cpu_count() or 1)
    works_tasks = not no_worker and extra == 0
    settings = Settings(**overrides)
    # The fetch limits are for the machine: every process that works tasks takes its share.
    shares = _fetch_shares(settings, max(extra, 1))
    settings = Settings(**overrides, **shares)
    logs.configure(settings.log_format)
    with_runtime(_first_start, settings, prepared=False)
    app = create_app(runtime=Runtime.from_settings(settings), worker=works_tasks)
    children = WorkerProcesses(extra, _children_env(settings, shares))
    children.start()
    click.echo(
        f"medialib: serving on http://{settings.host}:{settings.port} "
        "(web view at /ui, docs at /docs), "
        f"{_working(extra, works_tasks)}"
    )
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            loop="uvloop",
            **http_options(settings),
            log_level="info",
            # Logging is logs.configure's: uvicorn's lines go through its format, and the
            # access line is api/access_log.py's (a route template, never a query string).
            log_config=None,
            access_log=False,
        )
    finally:
        children.stop()


def _working(extra: int, works_tasks: bool) -> str:
    if works_tasks:
        return "working tasks itself"
    if extra == 0:
        return "no process working tasks (start `medialib worker`)"
    return f"{extra} worker process(es) working tasks"


def _fetch_shares(settings: Settings, processes: int) -> dict[str, Any]:
    """Each process's share of the machine's fetch limits and face detectors."""
    if processes <= 1:
        return {}
    detectors = settings.face_detectors or os.cpu_count() or 1
    return {
        "fetch_concurrency": max(1, -(-settings.fetch_concurrency // processes)),
        "fetch_per_host": max(1, -(-settings.fetch_per_host // processes)),
        "face_detectors": max(1, detectors // processes),
    }


def _children_env(settings: Settings, shares: dict[str, Any]) -> dict[str, str]:
    """The worker processes' environment: their fetch shares, and the folder their metrics go to
    (emptied now), which this server adds to its own; they serve no /metrics of their own."""
    metrics.clean_directory(settings.metrics_dir)
    env = {**os.environ, **_env(shares), metrics.MULTIPROCESS_ENV: str(settings.metrics_dir)}
    env.pop("MEDIALIB_METRICS_PORT", None)
    return env


def _env(values: dict[str, Any]) -> dict[str, str]:
    return {f"MEDIALIB_{name.upper()}": str(value) for name, value in values.items()}


async def _first_start(rt: Runtime) -> None:
    """The schema migrated (by a child process: this one serves and never holds alembic) and
    the projects written, then the first token if there is none."""
    await prepare(rt, migrate_apart=True)
    await _print_first_token(rt)


async def _print_first_token(rt: Runtime) -> None:
    if await tokens.list_tokens(rt.db):
        return
    project = "demo" if "demo" in rt.projects else next(iter(rt.projects))
    _, token = await tokens.create_token(rt.db, project, list(tokens.SCOPES), name="first start")
    click.echo(
        f"medialib: first start, a token for project '{project}' with scopes "
        f"{', '.join(tokens.SCOPES)}:\n\n    {token}\n\n"
        "Keep it: it is stored only as a hash. Make more with `medialib token create`."
    )
