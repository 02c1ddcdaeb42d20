"""What the API answers, described for the OpenAPI document (responses are built by the
presenters; these models say their shape, so that clients and schemathesis can check it)."""

from __future__ import annotations

import functools
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from medialib.imports.kinds import ImportKind
from medialib.library.media_kinds import MEDIA_KINDS


class ErrorBody(BaseModel):
    status: int
    error: str
    error_details: dict[str, Any]


class AssetOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str
    url: str
    size: int | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    filename: str | None = None
    mimeType: str | None = None
    sha256: str | None = None


class TranslationOut(BaseModel):
    locale: str
    metadata: dict[str, Any]
    asset: AssetOut | None = None


class Similarity(BaseModel):
    distance: int = Field(
        description="Bits of the 64-bit perceptual hash that differ (0: the same picture)"
    )


class EntryOut(BaseModel):
    id: str
    version: int
    systemName: str | None = None
    externalId: str | None = None
    mediaType: str
    asset: AssetOut
    metadata: dict[str, Any]
    translations: list[TranslationOut]
    archived: bool
    revoked: bool
    revokeNote: str | None = None
    createdAt: str
    updatedAt: str
    similarity: Similarity | None = Field(
        default=None, description="Only in `?similarTo=`: how near the entry is"
    )


class EntryList(BaseModel):
    """`mediaLibraryEntries` up to API version 2025-11, `results` from 2026-01."""

    mediaLibraryEntries: list[EntryOut] | None = None
    results: list[EntryOut] | None = None
    cursor: str | None = Field(
        default=None, description="When browsing: where the next page starts (null on the last)"
    )


class ImportResult(BaseModel):
    ok: bool
    status: int
    id: str | None = None
    record: EntryOut | None = None
    correlation: str | None = None
    error: str | None = None
    error_details: dict[str, Any] | None = None


class ImportResults(BaseModel):
    """`mediaLibraryEntries` up to API version 2025-11, `results` from 2026-01."""

    mediaLibraryEntries: list[ImportResult] | None = None
    results: list[ImportResult] | None = None


class SharedObject(BaseModel):
    key: str
    entries: list[str] = Field(description="The other entries that share the object")


class PatchDone(BaseModel):
    status: int = Field(examples=[200])
    sharedWith: list[SharedObject] | None = Field(
        default=None,
        description="After a revoke or unrevoke of an entry whose objects are shared on purpose: "
        "the other entries of each object. An object is revoked while any of its entries is.",
    )


class JobCreated(BaseModel):
    id: str


class Progress(BaseModel):
    total: int
    done: int
    success: int
    skipped: int
    failed: int


class WebhookState(BaseModel):
    state: str
    attempts: int
    lastStatusCode: int | None


class ItemResult(BaseModel):
    """What every kind's item result says; each kind adds its own fields (ImportKind.described)."""

    state: str
    status: str
    action: str | None = None
    reason: str | None = None
    reasonCode: str | None = None
    systemName: str
    externalId: str


class JobStatus(BaseModel):
    finished: bool
    state: str
    id: str
    startedAt: str
    finishedAt: str | None = None
    cancelledAt: str | None = Field(
        default=None, description="When the job was cancelled (its state reads `failed`)"
    )
    progress: Progress
    webhook: WebhookState | None = None
    cursor: str | None = Field(
        default=None, description="With `limit`: where the next page of items starts (or null)"
    )


class JobSummary(BaseModel):
    id: str
    kind: str = Field(description="image, file or video")
    state: str
    finished: bool
    systemName: str
    context: dict[str, Any] | None = Field(default=None, description="As the import sent it")
    startedAt: str
    finishedAt: str | None = None
    cancelledAt: str | None = Field(
        default=None, description="When the job was cancelled (its state reads `failed`)"
    )
    progress: Progress


class MetadataPropertyOut(BaseModel):
    handle: str
    type: str = Field(description="li-text, li-integer, li-boolean, …")
    config: dict[str, Any] = Field(description="The keys the project's config file gave it")
    ui: dict[str, Any] | None = Field(default=None, description="The original editor's settings")
    id: str | None = None


class MediaTypeOut(BaseModel):
    handle: str
    type: str = Field(description=" or ".join(MEDIA_KINDS))
    info: dict[str, Any] | None = Field(default=None, description="`{label, description}`")
    metadata: list[MetadataPropertyOut]
    asset: dict[str, Any] | None = None
    exifExtraction: dict[str, Any] | None = None


class ProjectConfig(BaseModel):
    v: int
    settings: dict[str, Any]
    mediaTypes: list[MediaTypeOut]
    mediaCenter: dict[str, Any] | None = Field(
        default=None, description="`usagePurposes`, when the project configures any"
    )


class JobList(BaseModel):
    jobs: list[JobSummary]
    cursor: str | None = Field(description="Where the next page starts; null on the last")


@functools.cache
def job_status_of(kind: ImportKind) -> type[JobStatus]:
    """A kind's status: `JobStatus` with its list of item results under the kind's plural."""
    plural = kind.plural.capitalize()
    item = pydantic.create_model(f"{plural}ItemResult", __base__=(ItemResult, kind.described))
    model: type[JobStatus] = pydantic.create_model(
        f"{plural}JobStatus",
        __base__=JobStatus,
        **{kind.plural: (list[item] | None, None)},  # type: ignore[call-overload]
    )
    return model


class KeyList(BaseModel):
    results: list[str] = Field(
        description="Keys of the entry's assets (now and before) and of their renditions"
    )


class UsageLogEntryOut(BaseModel):
    id: str
    url: str | None = Field(default=None, description="Left out when the entry has none")
    state: str = Field(description="pending or confirmed")
    params: dict[str, Any]
    purpose: str
    documentId: int | None = Field(default=None, description="Left out when not given")
    publicationId: int | None = Field(default=None, description="Left out when not given")
    reportingDate: str
    publicationDate: str | None = Field(default=None, description="Left out when not given")


class UsageLog(BaseModel):
    results: list[UsageLogEntryOut]


class DocumentReferenceOut(BaseModel):
    """One way a document refers to the entry; medialib knows only its usage log's."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="The entry's id")
    type: str = Field(description="image, video or file")
    location: str = Field(description="`usage-log`: a usage log entry names the document")
    usageLogEntryId: str


class DocumentReferencesOut(BaseModel):
    id: int = Field(description="The document's id")
    references: list[DocumentReferenceOut]


class DocumentReferencePage(BaseModel):
    total: int = Field(description="How many documents, on every page")
    cursor: str | None = Field(description="`after` for the next page; null on the last")
    results: list[DocumentReferencesOut]


class DocumentReferences(pydantic.RootModel[list[DocumentReferencesOut] | DocumentReferencePage]):
    """An array up to API version 2025-11; `{total, cursor, results}` from 2026-01."""


class MediaReferenceOut(BaseModel):
    """One property of the entry listed that names the entry asked about."""

    id: str = Field(description="The entry asked about")
    type: str = Field(description="What the property names: image or video")
    location: str = Field(description="`metadata`")
    propertyName: str = Field(description="The metadata property (of the entry listed)")


class MediaReferencesOut(BaseModel):
    id: str = Field(description="An entry whose metadata names the entry asked about")
    references: list[MediaReferenceOut]


class MediaReferencePage(BaseModel):
    total: int = Field(description="How many entries, on every page")
    cursor: str | None = Field(description="`after` for the next page; null on the last")
    results: list[MediaReferencesOut]


class MediaReferences(pydantic.RootModel[list[MediaReferencesOut] | MediaReferencePage]):
    """An array up to API version 2025-11; `{total, cursor, results}` from 2026-01."""


class Health(BaseModel):
    status: str
    database: str | None = None


_ERROR_CODES = {
    400: "The request is malformed; `error_details` names each bad field",
    401: "No valid access token",
    403: "The token lacks the scope",
    404: "Unknown version, route, or something this project does not have",
    409: "A version or state conflict",
    410: "A retired API version",
    413: "The body is too large",
    415: "The body is not JSON",
    429: "Too many requests for this token, or too many running jobs",
    503: "The database or the storage cannot be reached; see Retry-After",
}


def error_description(code: int) -> str:
    """What an error status means in this API."""
    return _ERROR_CODES[code]


def answers(ok: type[BaseModel] | None, *errors: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: its 200 model and the errors it may give."""
    documented: dict[int | str, dict[str, Any]] = {200: {"model": ok}} if ok else {}
    for code in errors or tuple(_ERROR_CODES):
        documented[code] = {"model": ErrorBody, "description": error_description(code)}
    return documented


class UploadOut(BaseModel):
    """Where to PUT the file: `uploadUrl` with `headers`, before `expiresAt`; then register
    `key` with the synchronous import."""

    key: str
    uploadUrl: str
    headers: dict[str, str]
    expiresAt: str


class DeliveryAttemptOut(BaseModel):
    attempt: int
    at: str
    statusCode: int | None
    error: str | None
    durationMs: int


class DeliveryOut(BaseModel):
    id: str = Field(description="The webhook-id every attempt was sent with")
    event: str = Field(description="import.finished, mediaLibraryEntry.create, …")
    subject: str = Field(description="The job or entry the event is about")
    url: str = Field(description="The receiver, a password in it shown as `***`")
    state: str = Field(description="pending, delivered or failed")
    createdAt: str
    lastError: str | None
    attempts: list[DeliveryAttemptOut]


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
    cursor: str | None
