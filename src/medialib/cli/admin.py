"""Admin commands: migrations, API tokens, and what a project looks like."""

from __future__ import annotations

import click

from medialib.auth import tokens
from medialib.bootstrap import Runtime
from medialib.cli.common import fail_cleanly, with_runtime
from medialib.db.migrate import migrate
from medialib.errors import MedialibError
from medialib.library.metadata import MetadataProperty
from medialib.library.projects import webhook_secret


@click.command(name="migrate")
@fail_cleanly
def migrate_command() -> None:
    """Apply the database migrations."""

    async def work(rt: Runtime) -> None:
        await migrate(rt.db)

    with_runtime(work, prepared=False)
    click.echo("medialib: database is up to date", err=True)


@click.group()
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
@fail_cleanly
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

    click.echo(with_runtime(work))


@token.command(name="list")
@click.option("--project", default=None, help="Only this project's tokens.")
@fail_cleanly
def token_list(project: str | None) -> None:
    """List tokens (never the tokens themselves, which are stored only as hashes)."""
    infos = with_runtime(lambda rt: tokens.list_tokens(rt.db, project))
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
@fail_cleanly
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id (from `medialib token list`)."""
    with_runtime(lambda rt: tokens.revoke_token(rt.db, token_id))
    click.echo(f"medialib: token {token_id} revoked", err=True)


@click.group()
def project() -> None:
    """Inspect configured projects."""


@project.command(name="show")
@click.argument("handle")
@fail_cleanly
def project_show(handle: str) -> None:
    """A project's media types and its webhook signing secret."""

    async def work(rt: Runtime) -> tuple[Runtime, str]:
        return rt, await webhook_secret(rt.db, handle)

    rt, secret = with_runtime(work)
    config_project = rt.projects.get(handle)
    if config_project is None:
        raise MedialibError(f"no project {handle!r} in {rt.config.source}")
    click.echo(f"project:        {handle}")
    click.echo(f"config:         {rt.config.source}")
    click.echo(f"webhook secret: {secret}")
    click.echo("media types:")
    for media_type in config_project.media_types.values():
        properties = ", ".join(_described(p) for p in media_type.schema.properties.values())
        click.echo(f"  {media_type.handle:<12} {media_type.kind:<11} {properties}")


def _described(prop: MetadataProperty) -> str:
    """`title (li-text, required)`, `license (li-enum: cc-by 'CC BY', rm)`."""
    notes: list[str] = [prop.type]
    if choices := prop.config.choices:
        notes = [
            f"{prop.type}: "
            + ", ".join(f"{o.value} {o.label!r}" if o.label else str(o.value) for o in choices)
        ]
    if prop.config.required:
        notes.append("required")
    if not prop.config.translatable:
        notes.append("not translatable")
    return f"{prop.handle} ({', '.join(notes)})"
