"""The project config file: which projects exist and what their media types look like, in the
shape of the original API's project config.

Read once at start from `medialib.yaml` (or the built-in `demo` project when there is no file),
validated completely, and compiled into the library's `Project`s: every media type gets its
metadata schema here, so requests never build validators. What the file may say is what medialib
uses: anything else is refused with the path where it stands.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from medialib.errors import ConfigError, field_problems
from medialib.library.events import SUBSCRIBABLE
from medialib.library.media_kinds import MEDIA_KINDS, MediaKind
from medialib.library.metadata import Label, MetadataProperty, MetadataSchema
from medialib.library.projects import (
    AssetRules,
    ExifMapping,
    MediaType,
    MediaTypeInfo,
    Project,
    Subscription,
    UsagePurpose,
)
from medialib.library.similar import DEFAULT_THRESHOLD, MAX_THRESHOLD
from medialib.media.urls import Imgix

HANDLE = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"


class ExifMappingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    metadataPropertyName: str


class ExifExtraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mappings: list[ExifMappingConfig] = Field(default_factory=list)


class DropMappingConfig(BaseModel):
    """A mapping of the original editor's drag and drop from Hugo+ or Comyan (no effect here)."""

    model_config = ConfigDict(extra="forbid")

    field: str | None = None
    fullObject: bool | None = None
    metadataPropertyName: str


class DropExtraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mappings: list[DropMappingConfig] = Field(default_factory=list)


class InfoConfig(BaseModel):
    """`info`: how the original's editor names a media type (or a media source)."""

    model_config = ConfigDict(extra="forbid")

    label: Label | None = None
    description: str | None = None


class MediaSourceConfig(BaseModel):
    """An editor plugin that searches another platform for images (no effect here)."""

    model_config = ConfigDict(extra="forbid")

    handle: str
    plugin: str
    info: InfoConfig | None = None
    config: dict[str, JsonValue] | None = None


class DeletionRoutineConfig(BaseModel):
    """The original's scheduled deletion of entries by filters (not done by medialib)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    filters: list[JsonValue] = Field(default_factory=list)


class AssetConfig(BaseModel):
    """What a media type accepts as its asset (imports check downloads against it)."""

    model_config = ConfigDict(extra="forbid")

    mimeTypes: list[str] | None = None
    maxSize: int | None = Field(default=None, ge=1)
    # The original's switches for its editor (medialib always allows both): no effect.
    translatable: bool | None = None
    replaceable: bool | None = None


class MediaTypeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: str = Field(pattern=HANDLE, max_length=100)
    type: MediaKind
    metadata: list[MetadataProperty] = Field(default_factory=list)
    exifExtraction: ExifExtraction | None = None
    asset: AssetConfig | None = None
    info: InfoConfig | None = None
    # The original's editor settings, accepted so that its config loads: no effect here.
    hugoExtraction: DropExtraction | None = None
    comyanExtraction: DropExtraction | None = None
    mediaSources: list[MediaSourceConfig] | None = None
    editor: dict[str, JsonValue] | None = None  # deprecated in the original (release-2026-05)
    hidden: bool | None = None  # deprecated in the original (release-2026-05)
    deletionRoutine: DeletionRoutineConfig | None = None

    @model_validator(mode="after")
    def _unique_properties(self) -> MediaTypeConfig:
        _refuse_duplicates([p.handle for p in self.metadata], "metadata property")
        names = {p.handle for p in self.metadata}
        for mapping in self.exifExtraction.mappings if self.exifExtraction else []:
            if mapping.metadataPropertyName not in names:
                raise ValueError(
                    f"exifExtraction maps to {mapping.metadataPropertyName!r}, "
                    "which is not a metadata property of this media type"
                )
        return self


class WebhookConfig(BaseModel):
    """A subscription to entry events: `{url, events: [mediaLibraryEntry.create, ...]}`."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2048)
    events: list[Literal[SUBSCRIBABLE]] = Field(min_length=1)  # type: ignore[valid-type]


class UsagePurposeConfig(BaseModel):
    """A purpose usage log entries may name: `{handle, label, internal?, paramsSchema?}`, as the
    original's `mediaCenter.usagePurposes` says it."""

    model_config = ConfigDict(extra="forbid")

    handle: str = Field(pattern=HANDLE, max_length=100)
    label: str | dict[str, str]
    internal: bool = False
    paramsSchema: list[MetadataProperty] | None = None

    @model_validator(mode="before")
    @classmethod
    def _unused(cls, data: Any) -> Any:
        for name in ("contentType", "recordUsageLogEntry"):
            if isinstance(data, dict) and name in data:
                raise ValueError(
                    f"'{name}' (usage recorded when a document is published) is not used by "
                    "medialib, which publishes no documents: remove it"
                )
        return data

    @model_validator(mode="after")
    def _unique_params(self) -> UsagePurposeConfig:
        _refuse_duplicates([p.handle for p in self.paramsSchema or []], "params property")
        return self


class MediaCenterConfig(BaseModel):
    """The original's `mediaCenter`, as far as medialib uses it: its usage purposes."""

    model_config = ConfigDict(extra="forbid")

    usagePurposes: list[UsagePurposeConfig] | None = Field(default=None, max_length=100)


# The original API's webhook events: those of media entries medialib sends (`active` and
# `invalid` once validity is kept), and those of documents, accepted and never sent.
ORIGINAL_ENTRY_EVENTS = (
    "mediaLibraryEntry.create",
    "mediaLibraryEntry.update",
    "mediaLibraryEntry.archive",
    "mediaLibraryEntry.revoke",
    "mediaLibraryEntry.active",
    "mediaLibraryEntry.invalid",
    "mediaLibraryEntry.delete",
)
DOCUMENT_EVENTS = (
    "document.create",
    "document.delete",
    "document.publish",
    "document.unpublish",
    "document.update",
    "document.build",
    "document.build.abort",
    "document.build.userChoice",
    "document.build.draft",
    "document.build.draft.abort",
    "document.build.draft.userChoice",
    "publication.update",
)


class OriginalWebhookEvent(BaseModel):
    """`{name, conditions?, changeFilter?}`: the original filters document events with them."""

    model_config = ConfigDict(extra="forbid")

    name: str
    conditions: dict[str, Any] | None = None
    changeFilter: dict[str, Any] | None = None


class OriginalWebhook(BaseModel):
    """A webhook as the original API configures it (`settings.webhooks.configurations[]`)."""

    model_config = ConfigDict(extra="forbid")

    handle: str = Field(pattern=HANDLE, max_length=50)
    label: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2048)
    secret: str | dict[str, Any] | None = None
    active: bool = True
    exposeUserActor: bool = False
    events: list[str | OriginalWebhookEvent] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _understood(self) -> OriginalWebhook:
        if isinstance(self.secret, dict):
            raise ValueError(
                "secret: medialib keeps no secret store for $secretRef; give the secret itself"
            )
        if self.secret is not None and not 1 <= len(self.secret) <= 1000:
            raise ValueError("secret: 1 to 1000 characters")
        for event in self.events:
            name = event if isinstance(event, str) else event.name
            if name not in ORIGINAL_ENTRY_EVENTS + DOCUMENT_EVENTS:
                raise ValueError(f"events: {name!r} is not an event of the original API")
            filtered = isinstance(event, OriginalWebhookEvent) and (
                event.conditions or event.changeFilter
            )
            if filtered and name in ORIGINAL_ENTRY_EVENTS:
                raise ValueError(f"events: {name!r} takes no conditions (documents' events do)")
        return self

    def secret_text(self) -> str | None:
        return self.secret if isinstance(self.secret, str) else None

    def entry_events(self) -> frozenset[str]:
        """The media entry events it subscribes to (document events are never sent)."""
        names = {event if isinstance(event, str) else event.name for event in self.events}
        return frozenset(names & set(ORIGINAL_ENTRY_EVENTS))


class OriginalWebhooks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool = True
    configurations: list[OriginalWebhook] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _unique_handles(self) -> OriginalWebhooks:
        _refuse_duplicates([c.handle for c in self.configurations], "webhook")
        return self


class ProjectSettings(BaseModel):
    """The original's project `settings`: what concerns media is read (`handle`, `webhooks`);
    the rest concerns documents and the editor, and is accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    handle: str | None = None
    webhooks: OriginalWebhooks | None = None


class NearDuplicatesConfig(BaseModel):
    """`nearDuplicates`: how many of a perceptual hash's 64 bits two pictures may differ in and
    still be near-duplicates (library/similar.py says why at most 11)."""

    model_config = ConfigDict(extra="forbid")

    threshold: int = Field(default=DEFAULT_THRESHOLD, ge=0, le=MAX_THRESHOLD, strict=True)


class ProjectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: str = Field(pattern=HANDLE, max_length=100)
    # The number the original API knew the project by: `projectId` in its change events.
    projectId: int | None = Field(default=None, ge=1, le=2**31 - 1)
    mediaTypes: list[MediaTypeConfig] = Field(min_length=1)
    webhookSecret: str | None = Field(default=None, min_length=24)
    webhooks: list[WebhookConfig] = Field(default_factory=list, max_length=20)
    # The purposes usage log entries may name; none: any handle. `mediaCenter.usagePurposes`
    # (the original's place for them) is read too, but only one of the two may say them.
    usagePurposes: list[UsagePurposeConfig] | None = Field(default=None, max_length=100)
    mediaCenter: MediaCenterConfig | None = None
    settings: ProjectSettings | None = None
    nearDuplicates: NearDuplicatesConfig = Field(default_factory=NearDuplicatesConfig)

    @model_validator(mode="after")
    def _unique_media_types(self) -> ProjectConfig:
        _refuse_duplicates([m.handle for m in self.mediaTypes], "media type")
        said = self.settings.handle if self.settings else None
        if said is not None and said != self.handle:
            raise ValueError(f"settings.handle {said!r} is not the project's handle")
        return self

    @model_validator(mode="after")
    def _one_place_for_purposes(self) -> ProjectConfig:
        nested = self.mediaCenter.usagePurposes if self.mediaCenter else None
        if self.usagePurposes is not None and nested is not None:
            raise ValueError(
                "usagePurposes and mediaCenter.usagePurposes are both set: keep one of them"
            )
        _refuse_duplicates([p.handle for p in self.purposes() or []], "usage purpose")
        return self

    def purposes(self) -> list[UsagePurposeConfig] | None:
        if self.usagePurposes is not None:
            return self.usagePurposes
        return self.mediaCenter.usagePurposes if self.mediaCenter else None

    def subscriptions(self) -> tuple[Subscription, ...]:
        """medialib's `webhooks`, then the active ones of `settings.webhooks`."""
        own = [Subscription(w.url, frozenset(w.events)) for w in self.webhooks]
        hooks = self.settings.webhooks if self.settings else None
        if hooks is None or not hooks.active:
            return tuple(own)
        original = [
            Subscription(c.url, c.entry_events(), c.handle, c.secret_text(), c.exposeUserActor)
            for c in hooks.configurations
            if c.active
        ]
        return (*own, *original)

    def number(self) -> int:
        """`projectId`, or a number of its own that stays with the handle."""
        return self.projectId or zlib.crc32(self.handle.encode()) % (2**31 - 1) + 1


class ImgixConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    secureToken: str | None = None


class MedialibImagesConfig(BaseModel):
    """medialib's own image service: with a secure token, rendition URLs must be signed."""

    model_config = ConfigDict(extra="forbid")

    secureToken: str | None = Field(default=None, min_length=16)


class ImageServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    imgix: ImgixConfig | None = None
    medialib: MedialibImagesConfig | None = None


class FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projects: list[ProjectConfig] = Field(min_length=1)
    imageService: ImageServiceConfig | None = None

    @model_validator(mode="after")
    def _unique_projects(self) -> FileConfig:
        _refuse_duplicates([p.handle for p in self.projects], "project")
        return self


def _refuse_duplicates(handles: list[str], what: str) -> None:
    seen: set[str] = set()
    for handle in handles:
        if handle in seen:
            raise ValueError(f"{what} {handle!r} is defined twice")
        seen.add(handle)


@dataclass(frozen=True)
class AppConfig:
    projects: dict[str, Project]
    imgix: Imgix | None = None
    source: str = "built-in demo config"
    rendition_token: str | None = None  # signs medialib's own rendition URLs


def _text(handle: str) -> dict[str, Any]:
    return {"handle": handle, "type": "li-text"}


DEMO_CONFIG: dict[str, Any] = {
    "projects": [
        {
            "handle": "demo",
            "mediaTypes": [
                {
                    "handle": handle,
                    "type": kind,
                    "metadata": [_text(p) for p in ("title", "caption", "source", "description")],
                }
                for handle, kind in ((k.demo_handle, k.name) for k in MEDIA_KINDS.values())
            ],
        }
    ]
}


def load_config(path: Path | None) -> AppConfig:
    """The compiled config of `path`, or the demo config; a broken file raises ConfigError."""
    if path is None:
        return compile_config(FileConfig.model_validate(DEMO_CONFIG), "built-in demo config")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from exc
    try:
        parsed = FileConfig.model_validate(raw)
    except pydantic.ValidationError as exc:
        where, problem = next(iter(field_problems(exc, whole="(top level)", brackets=True).items()))
        raise ConfigError(f"{path}: {where}: {problem}") from exc
    return compile_config(parsed, str(path))


def compile_config(parsed: FileConfig, source: str) -> AppConfig:
    projects = {
        p.handle: Project(
            handle=p.handle,
            media_types={m.handle: _media_type(m) for m in p.mediaTypes},
            webhook_secret=p.webhookSecret,
            webhooks=p.subscriptions(),
            number=p.number(),
            usage_purposes=_usage_purposes(p.purposes()),
            near_duplicate_threshold=p.nearDuplicates.threshold,
        )
        for p in parsed.projects
    }
    service = parsed.imageService or ImageServiceConfig()
    imgix = Imgix(service.imgix.host, service.imgix.secureToken) if service.imgix else None
    token = service.medialib.secureToken if service.medialib else None
    return AppConfig(projects, imgix, source, rendition_token=token)


def _usage_purposes(
    configs: list[UsagePurposeConfig] | None,
) -> dict[str, UsagePurpose] | None:
    if not configs:  # an empty list names no purposes either
        return None
    return {
        c.handle: UsagePurpose(
            handle=c.handle,
            label=c.label,
            internal=c.internal,
            params=MetadataSchema(c.paramsSchema) if c.paramsSchema is not None else None,
        )
        for c in configs
    }


def _media_type(config: MediaTypeConfig) -> MediaType:
    mappings = config.exifExtraction.mappings if config.exifExtraction else []
    asset = config.asset or AssetConfig()
    info = config.info
    return MediaType(
        handle=config.handle,
        kind=config.type,
        schema=MetadataSchema(config.metadata),
        exif_mappings=tuple(ExifMapping(m.field, m.metadataPropertyName) for m in mappings),
        asset_rules=AssetRules(tuple(asset.mimeTypes) if asset.mimeTypes else None, asset.maxSize),
        info=MediaTypeInfo(info.label, info.description) if info else None,
        asset_config=asset.model_dump(exclude_unset=True),
    )
