"""The `medialib` command: serve, migrate, tokens and projects."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import click

from medialib.auth import tokens
from medialib.db.migrate import migrate
from medialib.errors import MedialibError
from medialib.runtime import Runtime
from medialib.settings import Settings

T = TypeVar("T")


def _fail_cleanly(func: Callable[..., T]) -> Callable[..., T]:
    """Known failures (a broken config, an unknown project) end in one line, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except MedialibError as exc:
            click.echo(f"medialib: error: {exc.message}", err=True)
            sys.exit(2)

    return wrapper


def _with_runtime(
    work: Callable[[Runtime], Awaitable[T]],
    settings: Settings | None = None,
    *,
    prepare: bool = True,
) -> T:
    """Run `work` with a runtime; `prepare` first brings the schema and projects up to date
    (the embedded database migrates itself; PostgreSQL must have been migrated)."""

    async def run() -> T:
        from medialib.app import bootstrap

        rt = Runtime.from_settings(settings or Settings())
        try:
            if prepare:
                await bootstrap(rt)
            return await work(rt)
        finally:
            await rt.close()

    return asyncio.run(run())


@click.group()
@click.version_option(package_name="medialib")
def main() -> None:
    """medialib: a media library service with a bulk import API."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default 8000).")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=0),
    help="Worker processes besides the server (default: one per core but one).",
)
@click.option("--no-worker", is_flag=True, help="Serve HTTP only; run `medialib worker` apart.")
@_fail_cleanly
def serve(host: str | None, port: int | None, workers: int | None, no_worker: bool) -> None:
    """Serve the API and work the imports (migrating SQLite, printing a first token)."""
    import uvicorn

    from medialib.app import HTTP_OPTIONS, create_app
    from medialib.tasks.processes import WorkerProcesses

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    extra = 0 if no_worker else (workers if workers is not None else (os.cpu_count() or 1) - 1)
    settings = Settings(**overrides)
    # The fetch limits are for the machine: every process that works tasks takes its share.
    shares = _fetch_shares(settings, extra + (0 if no_worker else 1))
    settings = Settings(**overrides, **shares)
    _with_runtime(_print_first_token, settings)
    app = create_app(runtime=Runtime.from_settings(settings), worker=not no_worker)
    children = WorkerProcesses(extra, {**os.environ, **_env(shares)})
    children.start()
    click.echo(
        f"medialib: serving on http://{settings.host}:{settings.port} (docs at /docs), "
        f"{extra + (0 if no_worker else 1)} process(es) working tasks"
    )
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            loop="uvloop",
            **HTTP_OPTIONS,
            log_level="info",
        )
    finally:
        children.stop()


def _fetch_shares(settings: Settings, processes: int) -> dict[str, Any]:
    if processes <= 1:
        return {}
    return {
        "fetch_concurrency": max(1, -(-settings.fetch_concurrency // processes)),
        "fetch_per_host": max(1, -(-settings.fetch_per_host // processes)),
    }


def _env(values: dict[str, Any]) -> dict[str, str]:
    return {f"MEDIALIB_{name.upper()}": str(value) for name, value in values.items()}


@main.command()
@click.option("--concurrency", default=None, type=click.IntRange(min=1), help="Chunks at once.")
@_fail_cleanly
def worker(concurrency: int | None) -> None:
    """Work background tasks only (no HTTP)."""
    import uvloop

    from medialib.tasks.processes import die_with_parent

    die_with_parent()
    overrides: dict[str, Any] = {"worker_concurrency": concurrency} if concurrency else {}
    uvloop.run(_work(Settings(**overrides)))


async def _work(settings: Settings) -> None:
    from medialib.app import bootstrap, start_worker

    rt = Runtime.from_settings(settings)
    await bootstrap(rt)
    runner = await start_worker(rt)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    click.echo(f"medialib: worker {runner.id} ready (pid {os.getpid()})", err=True)
    await stop.wait()
    await runner.stop()
    await rt.close()


async def _print_first_token(rt: Runtime) -> None:
    if await tokens.list_tokens(rt.db):
        return
    project = "demo" if "demo" in rt.config.projects else next(iter(rt.config.projects))
    _, token = await tokens.create_token(rt.db, project, list(tokens.SCOPES), name="first start")
    click.echo(
        f"medialib: first start, a token for project '{project}' with scopes "
        f"{', '.join(tokens.SCOPES)}:\n\n    {token}\n\n"
        "Keep it: it is stored only as a hash. Make more with `medialib token create`."
    )


@main.command(name="migrate")
@_fail_cleanly
def migrate_command() -> None:
    """Apply the database migrations."""

    async def work(rt: Runtime) -> None:
        await migrate(rt.db)

    _with_runtime(work, prepare=False)
    click.echo("medialib: database is up to date", err=True)


@main.command(name="copy")
@click.option("--to-database-url", required=True, help="e.g. postgresql://user:pass@host/db")
@click.option("--to-storage-url", required=True, help="e.g. s3://bucket/prefix")
@click.option("--to-s3-endpoint", default=None, help="An S3-compatible server's URL.")
@_fail_cleanly
def copy_command(to_database_url: str, to_storage_url: str, to_s3_endpoint: str | None) -> None:
    """Copy every entry, asset, token and finished job to another database and storage."""
    from medialib.copy import copy_installation

    source_settings = Settings()
    target_settings = Settings(
        database_url=to_database_url,
        storage_url=to_storage_url,
        s3_endpoint=to_s3_endpoint,
        config=source_settings.config_path,
    )

    async def work(source: Runtime) -> None:
        target = Runtime.from_settings(target_settings)
        try:
            # The source's projects (and their webhook secrets) come over with the rows.
            await migrate(target.db)
            report = await copy_installation(
                source, target, lambda line: click.echo(f"medialib: {line}", err=True)
            )
        finally:
            await target.close()
        click.echo(
            f"medialib: copied {sum(report.rows.values())} rows, {report.objects_copied} objects "
            f"({report.objects_present} were there already)",
            err=True,
        )
        if report.objects_missing:
            click.echo(
                f"medialib: {len(report.objects_missing)} asset(s) have no object in the source "
                f"storage, e.g. {report.objects_missing[0]}",
                err=True,
            )
        if report.jobs_left_running:
            click.echo(
                f"medialib: {report.jobs_left_running} job(s) still running were not copied; "
                "let them finish and copy again",
                err=True,
            )

    _with_runtime(work, source_settings)


@main.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command(name="create")
@click.option("--project", required=True, help="Project handle the token belongs to.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(tokens.SCOPES),
    help="A scope; repeat for several.",
)
@click.option("--expires-in", default=None, help="Lifetime such as 30d, 12h or 90m.")
@click.option("--name", default=None, help="A note on what the token is for.")
@_fail_cleanly
def token_create(
    project: str, scopes: tuple[str, ...], expires_in: str | None, name: str | None
) -> None:
    """Make a token; prints only the token on stdout."""
    lifetime = tokens.parse_duration(expires_in) if expires_in else None

    async def work(rt: Runtime) -> str:
        _, made = await tokens.create_token(
            rt.db, project, list(scopes), expires_in=lifetime, name=name
        )
        return made

    click.echo(_with_runtime(work))


@token.command(name="list")
@click.option("--project", default=None, help="Only this project's tokens.")
@_fail_cleanly
def token_list(project: str | None) -> None:
    """List tokens (never the tokens themselves, which are stored only as hashes)."""
    infos = _with_runtime(lambda rt: tokens.list_tokens(rt.db, project))
    click.echo(f"{'ID':<18}{'PROJECT':<16}{'STATE':<10}{'EXPIRES':<22}{'SCOPES':<34}NAME")
    for info in infos:
        state = "revoked" if info.revoked_at else "active"
        expires = info.expires_at.strftime("%Y-%m-%d %H:%M UTC") if info.expires_at else "never"
        click.echo(
            f"{info.id:<18}{info.project:<16}{state:<10}{expires:<22}"
            f"{','.join(info.scopes):<34}{info.name or ''}"
        )


@token.command(name="revoke")
@click.argument("token_id")
@_fail_cleanly
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id (from `medialib token list`)."""
    _with_runtime(lambda rt: tokens.revoke_token(rt.db, token_id))
    click.echo(f"medialib: token {token_id} revoked", err=True)


@main.group()
def project() -> None:
    """Inspect configured projects."""


@project.command(name="show")
@click.argument("handle")
@_fail_cleanly
def project_show(handle: str) -> None:
    """A project's media types and its webhook signing secret."""
    from medialib.projects import webhook_secret

    async def work(rt: Runtime) -> tuple[Runtime, str]:
        return rt, await webhook_secret(rt.db, handle)

    rt, secret = _with_runtime(work)
    config_project = rt.config.projects.get(handle)
    if config_project is None:
        raise MedialibError(f"no project {handle!r} in {rt.config.source}")
    click.echo(f"project:        {handle}")
    click.echo(f"config:         {rt.config.source}")
    click.echo(f"webhook secret: {secret}")
    click.echo("media types:")
    for media_type in config_project.media_types.values():
        properties = ", ".join(
            f"{p.handle} ({p.type}{', required' if p.config.required else ''})"
            for p in media_type.schema.properties.values()
        )
        click.echo(f"  {media_type.handle:<12} {media_type.kind:<11} {properties}")


if __name__ == "__main__":
    main()
