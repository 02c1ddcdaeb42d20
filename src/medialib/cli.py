"""The `medialib` command: serve, migrate, tokens and projects."""

from __future__ import annotations

import asyncio
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
@_fail_cleanly
def serve(host: str | None, port: int | None) -> None:
    """Serve the API (migrating the embedded database and printing a first token)."""
    import uvicorn

    from medialib.app import create_app

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = Settings(**overrides)

    _with_runtime(_print_first_token, settings)
    app = create_app(runtime=Runtime.from_settings(settings))
    click.echo(f"medialib: serving on http://{settings.host}:{settings.port} (docs at /docs)")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level="info",
    )


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
