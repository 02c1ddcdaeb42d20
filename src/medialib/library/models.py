"""What the library holds (Entry) and the shapes callers send it, checked before any rule runs."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)
from pydantic_core import PydanticCustomError

from medialib.library.storable import StorableIn
from medialib.media.analysis.records import ANALYSIS_FIELDS
from medialib.parsing import IMAGE_TYPE_PATTERN, MEDIA_TYPE_PATTERN

ENTRY_ID_PATTERN = r"^[a-zA-Z0-9-]{1,32}$"
# The original API's translation locale (its openapi's MediaLibraryTranslations): a lowercase
# letter, then letters, digits and '-' ("de", "de-CH", "zh-Hant", "i-klingon"); at most 35.
LOCALE_PATTERN = r"^[a-z][a-zA-Z0-9-]+$"
MAX_LOCALE_LENGTH = 35
SHA256_PATTERN = r"^[0-9a-f]{64}$"
MAX_URL_LENGTH = 4096  # a URL an entry read from the API says (ignored; bounded all the same)
MAX_REVOKE_NOTE = 200  # as PATCH revokeAsset's note

# A JSON object as medialib stores and sends it: an entry's metadata and asset, a job's context,
# what probing learnt of a file. Its values are JSON's: str, int, float, bool, None, lists, objects.
JsonObject = dict[str, Any]

# Sizes beyond what a JavaScript client can hold exactly (2^53 - 1) are no real file's.
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=2**53 - 1)]
PositiveInt = Annotated[StrictInt, Field(ge=1, le=1_000_000)]


def stored_objects(asset: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The objects an asset stands for, by key: its own and its poster frame's (a video's)."""
    objects = {asset["key"]: asset}
    poster = asset.get("poster")
    if poster:
        objects[poster["key"]] = poster
    return objects


Url = Annotated[StrictStr, Field(max_length=MAX_URL_LENGTH)]
ShortText = Annotated[StrictStr, Field(max_length=100)]

# The deprecated `storage` of the original's assets: a string in its openapi, an object naming
# the bucket in older exports. Either is taken and ignored: medialib has one store, and the key
# says where in it the object is.
MAX_STORAGE_TEXT = 200
MAX_STORAGE_MEMBERS = 20
_STORAGE_SHAPE = (
    f"must be a string of at most {MAX_STORAGE_TEXT} characters, or an object of at most "
    f"{MAX_STORAGE_MEMBERS} members whose values are strings of at most {MAX_STORAGE_TEXT} "
    "characters, numbers, booleans or null"
)


def _storage_value(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_STORAGE_TEXT
    return value is None or isinstance(value, bool | int | float)


def check_storage(value: Any) -> Any:
    """The original's `asset.storage` as it may come (see above), or a ValueError-like error."""
    if value is None or (isinstance(value, str) and len(value) <= MAX_STORAGE_TEXT):
        return value
    if (
        isinstance(value, dict)
        and len(value) <= MAX_STORAGE_MEMBERS
        and all(len(k) <= MAX_STORAGE_TEXT and _storage_value(v) for k, v in value.items())
    ):
        return value
    raise PydanticCustomError("storage", _STORAGE_SHAPE)


class ReadOnlyAssetFields(BaseModel):
    """What the API says of an asset that is medialib's to know, not the caller's: accepted so
    that an entry read from the API can be posted back unchanged, and never stored as sent.
    `url` and `originalUrl` are derived from the key; `imageService` is the server's; `storage`
    is the original's (see `check_storage`)."""

    url: Url | None = None
    originalUrl: Url | None = None
    imageService: ShortText | None = None
    storage: Any = None
    # What the analysis of the picture found (media/analysis/records.py): medialib's own.
    perceptualHash: ShortText | None = None
    placeholder: ShortText | None = None
    color: ShortText | None = None
    focalPoint: dict[str, StrictFloat | StrictInt | ShortText] | None = None
    faces: Annotated[list[dict[str, StrictFloat | StrictInt]], Field(max_length=100)] | None = None

    @field_validator("storage", mode="plain")
    @classmethod
    def _storage(cls, value: Any) -> Any:
        return check_storage(value)


# Fields of an asset that are read-only: taken, never stored as the caller sent them.
READ_ONLY_ASSET_FIELDS = frozenset(
    {"url", "originalUrl", "imageService", "storage", "sha256", "videoCodec", "audioCodec"}
    | set(ANALYSIS_FIELDS)
)


class PosterIn(ReadOnlyAssetFields):
    """A video's poster frame: an image stored beside it."""

    model_config = ConfigDict(extra="forbid")

    key: StrictStr
    width: PositiveInt
    height: PositiveInt
    mimeType: Annotated[StrictStr, Field(pattern=IMAGE_TYPE_PATTERN, max_length=200)] = "image/jpeg"


class AssetIn(ReadOnlyAssetFields):
    """An asset as callers describe it; which fields are required depends on the media kind."""

    model_config = ConfigDict(extra="forbid")

    key: StrictStr
    size: NonNegativeInt | None = None
    width: PositiveInt | None = None
    height: PositiveInt | None = None
    duration: Annotated[StrictFloat | StrictInt, Field(ge=0, le=10**7)] | None = None
    filename: Annotated[StrictStr, Field(min_length=1, max_length=500)] | None = None
    # Served as the Content-Type of the asset's URL: a media type in ASCII (not `\w`, which
    # takes any letter, and a header cannot carry most).
    mimeType: Annotated[StrictStr, Field(pattern=MEDIA_TYPE_PATTERN, max_length=200)] | None = None
    poster: PosterIn | None = None  # videos only
    # The key may already be another entry's: they share the object on purpose (it is served
    # while one of them is not revoked, and deleted with the last of them). Not stored.
    shared: StrictBool | None = None
    # The sha256 of the object's bytes, as the API shows it for a URL import's asset: checked
    # against the object (medialib's record of it, or its bytes read whole) by the synchronous
    # import, and kept only when it is the object's; ignored by replaceAsset.
    sha256: Annotated[StrictStr, Field(pattern=SHA256_PATTERN)] | None = None
    # What probing a URL import's video found; a registration does not probe: ignored.
    videoCodec: ShortText | None = None
    audioCodec: ShortText | None = None


class TranslationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: Annotated[StrictStr, Field(pattern=LOCALE_PATTERN, max_length=MAX_LOCALE_LENGTH)]
    metadata: dict[str, Any] = Field(default_factory=dict)
    asset: dict[str, Any] | None = None


class EntryIn(StorableIn):
    model_config = ConfigDict(extra="forbid")

    id: StrictStr | None = None
    systemName: Annotated[StrictStr, Field(min_length=1, max_length=200)] | None = None
    externalId: Annotated[StrictStr, Field(min_length=1, max_length=500)] | None = None
    mediaType: StrictStr
    asset: dict[str, Any]
    metadata: dict[str, Any] | None = None
    translations: list[TranslationIn] = Field(default_factory=list, max_length=100)
    # What the API shows of an entry and medialib keeps itself, so that an entry read from the
    # API posts back unchanged. A new entry is version 1, made now: `version`, `createdAt` and
    # `updatedAt` are ignored (checked for their type only). `revoked: true` and
    # `archived: true` are kept (a copy of a revoked entry is revoked, its note with it);
    # `false` is what a new entry is anyway. The import never changes an existing entry, so
    # none of them can unrevoke or unarchive one.
    version: Any = Field(
        default=None,
        description="As the API shows it (a whole number, or its digits); ignored: a new entry "
        "is version 1",
    )
    createdAt: Annotated[StrictStr, Field(max_length=64)] | None = Field(
        default=None, description="Ignored: a new entry is made now"
    )
    updatedAt: Annotated[StrictStr, Field(max_length=64)] | None = Field(
        default=None, description="Ignored: a new entry is made now"
    )
    similarity: Annotated[dict[str, StrictInt], Field(max_length=10)] | None = Field(
        default=None,
        description="What a `similarTo` list says of the entry (its distance); ignored",
    )
    archived: StrictBool | None = Field(default=None, description="true: registered archived")
    revoked: StrictBool | None = Field(
        default=None, description="true: registered revoked, its objects not served"
    )
    revokeNote: Annotated[StrictStr, Field(max_length=MAX_REVOKE_NOTE)] | None = Field(
        default=None, description="Kept with revoked: true"
    )

    @field_validator("version", mode="plain")
    @classmethod
    def _version(cls, value: Any) -> Any:
        """A version as the API shows it (a whole number), or as PATCH takes it (its digits)."""
        if value is None or (
            isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53 - 1
        ):
            return value
        if isinstance(value, str) and 1 <= len(value) <= 15 and value.isascii() and value.isdigit():
            return value
        raise PydanticCustomError("version", "must be a whole number from 0 to 2^53 - 1")


class PatchIn(StorableIn):
    """One patch operation; which fields an operation needs is checked by the patch rules."""

    model_config = ConfigDict(extra="forbid")

    operation: StrictStr
    propertyName: StrictStr | None = None
    value: Any = None
    locale: (
        Annotated[StrictStr, Field(pattern=LOCALE_PATTERN, max_length=MAX_LOCALE_LENGTH)] | None
    ) = None
    note: StrictStr | None = None
    usageLogEntryId: StrictStr | None = None  # updateUsageLogEntry, removeUsageLogEntry
    oldValue: dict[str, Any] | None = None  # updateUsageLogEntry: what the entry must say now


class PatchRequestIn(StorableIn):
    model_config = ConfigDict(extra="forbid")

    version: StrictStr | StrictInt | None = None
    preserveUpdatedAt: bool | None = None
    patches: list[PatchIn] = Field(min_length=1, max_length=100)


@dataclass
class Entry:
    project: str
    id: str
    media_type: str
    system_name: str | None
    external_id: str | None
    asset: dict[str, Any]
    metadata: dict[str, Any]
    translations: list[dict[str, Any]]
    version: int
    archived: bool
    revoked: bool
    revoke_note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    import_fingerprint: str | None = None
    # Not served, as its metadata says (library/validity.py); the API does not show it: its
    # metadata does.
    invalid: bool = False
    validity_check_at: dt.datetime | None = None

    def asset_keys(self) -> list[str]:
        assets = [self.asset] + [t["asset"] for t in self.translations if t.get("asset")]
        return [key for asset in assets for key in stored_objects(asset)]


class FailureKind(enum.StrEnum):
    INVALID = "invalid"  # the entry breaks a rule
    ID_TAKEN = "id_taken"  # its id or (systemName, externalId) is another entry's


@dataclass
class Failure:
    """Why one entry of a batch was refused; the API says it in each version's terms."""

    kind: FailureKind
    message: str
    metadata_issues: list[Any] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ImportOutcome:
    correlation: str
    entry: Entry | None = None
    failure: Failure | None = None
