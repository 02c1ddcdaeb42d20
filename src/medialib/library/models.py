"""What the library holds (Entry) and the shapes callers send it, checked before any rule runs."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from medialib.library.storable import StorableIn
from medialib.parsing import IMAGE_TYPE_PATTERN, MEDIA_TYPE_PATTERN

ENTRY_ID_PATTERN = r"^[a-zA-Z0-9-]{1,32}$"
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

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


class PosterIn(BaseModel):
    """A video's poster frame: an image stored beside it."""

    model_config = ConfigDict(extra="forbid")

    key: StrictStr
    url: StrictStr | None = None
    originalUrl: StrictStr | None = None  # derived from the key, as `url` is
    width: PositiveInt
    height: PositiveInt
    mimeType: Annotated[StrictStr, Field(pattern=IMAGE_TYPE_PATTERN, max_length=200)] = "image/jpeg"


class AssetIn(BaseModel):
    """An asset as callers describe it; which fields are required depends on the media kind."""

    model_config = ConfigDict(extra="forbid")

    key: StrictStr
    url: StrictStr | None = None
    originalUrl: StrictStr | None = None  # derived from the key, as `url` is
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


class TranslationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: Annotated[StrictStr, Field(pattern=LOCALE_PATTERN, max_length=35)]
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


class PatchIn(StorableIn):
    """One patch operation; which fields an operation needs is checked by the patch rules."""

    model_config = ConfigDict(extra="forbid")

    operation: StrictStr
    propertyName: StrictStr | None = None
    value: Any = None
    locale: Annotated[StrictStr, Field(pattern=LOCALE_PATTERN, max_length=35)] | None = None
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
