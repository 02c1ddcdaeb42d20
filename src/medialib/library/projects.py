"""Projects and their media types, as the library works with them (compiled from the config file
by library/config.py), and the project rows that hold each project's webhook signing secret."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from pydantic import JsonValue

from medialib.db.engine import Database
from medialib.db.tables import projects, utcnow
from medialib.errors import NotFound
from medialib.library.media_kinds import MediaKind
from medialib.library.metadata import MetadataSchema


@dataclass(frozen=True)
class ExifMapping:
    """A field of a file's own metadata (EXIF tag, `iptc:…`, `xmp:…`) and the property it fills."""

    field: str
    property: str


@dataclass(frozen=True)
class AssetRules:
    """What a media type accepts as its asset; None means whatever its kind accepts."""

    mime_types: tuple[str, ...] | None = None
    max_size: int | None = None

    def refusal(self, mime_type: str) -> str | None:
        if self.mime_types and mime_type not in self.mime_types:
            return f"takes {', '.join(self.mime_types)}"
        return None


@dataclass(frozen=True)
class MediaTypeInfo:
    """The original's `info` of a media type: how its editor names it."""

    label: str | dict[str, str] | None = None
    description: str | None = None


@dataclass(frozen=True)
class MediaType:
    handle: str
    kind: MediaKind
    schema: MetadataSchema
    exif_mappings: tuple[ExifMapping, ...] = ()
    asset_rules: AssetRules = AssetRules()
    info: MediaTypeInfo | None = None
    asset_config: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)  # as given


@dataclass(frozen=True)
class Subscription:
    """A webhook the project's config subscribes to some of the entry events (the catalogue,
    library/events.py, says which may be subscribed to). One configured the original API's way
    (`settings.webhooks.configurations`) has a `handle`: its deliveries carry the original's
    payload, and its own `secret`, if any, signs them in `x-livingdocs-signature` too."""

    url: str
    events: frozenset[str]
    handle: str | None = None
    secret: str | None = None
    expose_user_actor: bool = False  # a user actor's name goes out too


@dataclass(frozen=True)
class UsagePurpose:
    """A purpose usage log entries may name (`print`, `web`); `params` checks their params when
    the config gives a `paramsSchema`."""

    handle: str
    label: str | dict[str, str]
    internal: bool = False
    params: MetadataSchema | None = None


@dataclass(frozen=True)
class Project:
    handle: str
    media_types: dict[str, MediaType]
    webhook_secret: str | None = None
    webhooks: tuple[Subscription, ...] = ()
    # None: the config names no purposes, and a usage log entry may name any.
    usage_purposes: dict[str, UsagePurpose] | None = None
    number: int = 0  # the original API's numeric project id (`projectId` in its events)
    # Bits two perceptual hashes may differ in for near-duplicates (`nearDuplicates.threshold`).
    near_duplicate_threshold: int = 10

    def subscribers(self, event: str) -> list[Subscription]:
        """The webhooks that want `event`."""
        return [hook for hook in self.webhooks if event in hook.events]

    def configured_webhook(self, handle: str) -> Subscription | None:
        """The webhook configured the original's way under `handle`."""
        return next((hook for hook in self.webhooks if hook.handle == handle), None)


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def sync_projects(db: Database, configured: Iterable[Project]) -> None:
    """Give each configured project its row; a secret set in the config replaces a generated one."""
    configured = list(configured)
    async with db.write() as conn:
        existing = dict(
            (await conn.execute(sa.select(projects.c.handle, projects.c.webhook_secret))).all()
        )
        new = [
            {
                "handle": project.handle,
                "webhook_secret": project.webhook_secret or new_webhook_secret(),
                "created_at": utcnow(),
            }
            for project in configured
            if project.handle not in existing
        ]
        if new:
            await conn.execute(projects.insert(), new)
        for project in configured:
            secret = project.webhook_secret
            if secret and project.handle in existing and existing[project.handle] != secret:
                await conn.execute(
                    projects.update()
                    .where(projects.c.handle == project.handle)
                    .values(webhook_secret=secret)
                )


async def webhook_secret(db: Database, project: str) -> str:
    async with db.read() as conn:
        secret = await conn.scalar(
            sa.select(projects.c.webhook_secret).where(projects.c.handle == project)
        )
    if secret is None:
        raise NotFound(f"no project {project!r}")
    return str(secret)
