"""Uploads: a caller asks for a place to put a file, PUTs the bytes there, then registers the key
with the synchronous import (which checks the stored object against what the entry says).

On S3 the place is a presigned PUT straight into the bucket. On a local folder it is a short-lived
URL on medialib itself, signed with a key derived from the server secret for upload URLs only,
whose handler streams the body to disk and takes exactly the size that was announced. Either
way the key is recorded as the asking project's (the `uploads` table): no other project can
register the object, even one that learns its key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import mimetypes
import re
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from medialib.db.engine import Database
from medialib.db.tables import uploads
from medialib.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    PayloadTooLarge,
    field_problems,
)
from medialib.library.media_kinds import MEDIA_KINDS
from medialib.library.projects import Project
from medialib.media.storage import Storage, new_key
from medialib.parsing import MEDIA_TYPE_PATTERN
from medialib.server_secret import Purpose, ServerSecret
from medialib.settings import Settings

UPLOAD_TTL = dt.timedelta(hours=1)
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


class UploadIn(BaseModel):
    """What the caller means to upload."""

    model_config = ConfigDict(extra="forbid")

    fileName: Annotated[StrictStr, Field(min_length=1, max_length=500)]
    mimeType: Annotated[StrictStr, Field(pattern=MEDIA_TYPE_PATTERN, max_length=200)]
    size: Annotated[StrictInt, Field(ge=1)]


@dataclass(frozen=True)
class Upload:
    key: str
    url: str
    headers: dict[str, str]
    expires_at: dt.datetime


@dataclass(frozen=True)
class UploadTerms:
    """What a local upload URL allows: one object, of one size and type, until a time."""

    project: str
    key: str
    size: int
    mime_type: str
    expires: int  # seconds since the epoch

    @property
    def text(self) -> str:
        return f"{self.project}\n{self.key}\n{self.size}\n{self.mime_type}\n{self.expires}"

    def signature(self, secret: ServerSecret) -> str:
        return secret.sign(Purpose.UPLOAD_URL, self.text)

    def query(self, secret: ServerSecret) -> str:
        return urlencode(
            {
                "project": self.project,
                "size": self.size,
                "type": self.mime_type,
                "expires": self.expires,
                "signature": self.signature(secret),
            }
        )


def largest_upload(project: Project, settings: Settings) -> int:
    """The largest file `project` could register: its media types' own limits, each within
    what its kind takes at all (a project without videos takes no 5 GB upload)."""
    limits = []
    for media_type in project.media_types.values():
        takes = MEDIA_KINDS[media_type.kind].largest(settings)
        limits.append(min(media_type.asset_rules.max_size or takes, takes))
    return max(limits, default=0)


def parse_upload(raw: Any, max_size: int) -> UploadIn:
    try:
        asked = UploadIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise BadRequest(details=field_problems(exc)) from exc
    if asked.size > max_size:
        raise BadRequest(details={"size": f"{asked.size} bytes is more than {max_size}"})
    return asked


def extension_of(asked: UploadIn) -> str:
    """The key's extension: the file name's, else the type's usual one, else `bin`."""
    suffix = Path(asked.fileName).suffix.lstrip(".").lower()
    if _EXTENSION.fullmatch(suffix):  # `$` matches before a newline too
        return suffix
    guessed = (mimetypes.guess_extension(asked.mimeType) or "").lstrip(".")
    return guessed if _EXTENSION.fullmatch(guessed) else "bin"


async def start_upload(
    db: Database,
    storage: Storage,
    secret: ServerSecret,
    project: str,
    asked: UploadIn,
    *,
    base_url: str,
) -> Upload:
    """A fresh key, recorded as `project`'s, and the URL to PUT its bytes to."""
    key = new_key(extension_of(asked))
    expires_at = (dt.datetime.now(dt.UTC) + UPLOAD_TTL).replace(microsecond=0)
    headers = {"Content-Type": asked.mimeType}
    async with db.write() as conn:
        await conn.execute(uploads.insert().values(key=key, project=project, expires_at=expires_at))
    presigned = await storage.signed_put_url(key, UPLOAD_TTL)
    if presigned is not None:
        return Upload(key, presigned, headers, expires_at)
    terms = UploadTerms(project, key, asked.size, asked.mimeType, int(expires_at.timestamp()))
    url = f"{base_url.rstrip('/')}/uploads/{key}?{terms.query(secret)}"
    return Upload(key, url, headers, expires_at)


def check_terms(secret: ServerSecret, terms: UploadTerms, signature: str) -> None:
    """A forged, altered or expired upload URL is refused before any byte is read."""
    if not secret.verify(Purpose.UPLOAD_URL, terms.text, signature):
        raise Forbidden(details={"signature": "is not a signature of this upload URL"})
    if terms.expires < dt.datetime.now(dt.UTC).timestamp():
        raise Forbidden(details={"expires": "this upload URL has expired; ask for another"})


async def receive(
    storage: Storage, temp_dir: Path, terms: UploadTerms, body: AsyncIterable[bytes]
) -> None:
    """Stream the body to disk, exactly `terms.size` bytes, then store it at `terms.key`; an
    object already there (the URL used twice) is never overwritten."""
    if await storage.head(terms.key) is not None:
        raise Conflict(details={"key": "an object was uploaded to this URL already"})
    path = temp_dir / f"{uuid.uuid4()}.upload"
    try:
        received = await _to_file(body, path, terms.size)
        if received != terms.size:
            raise BadRequest(
                details={"body": f"{received} bytes, but the upload announced {terms.size}"}
            )
        # Only if no object is there yet, checked by the store itself: two PUTs racing to one
        # URL both passed the check above, and the later one replaced the other's bytes.
        if not await storage.put_new_file(terms.key, path, content_type=terms.mime_type):
            raise Conflict(details={"key": "an object was uploaded to this URL already"})
    finally:
        path.unlink(missing_ok=True)


async def _to_file(body: AsyncIterable[bytes], path: Path, most: int) -> int:
    """Write the body to `path` a megabyte at a time (in a thread); never more than `most`."""
    received, pending = 0, bytearray()
    with path.open("wb") as out:
        async for chunk in body:
            received += len(chunk)
            if received > most:
                raise PayloadTooLarge(details={"body": f"more than the {most} bytes announced"})
            pending += chunk
            if len(pending) >= 1 << 20:
                await asyncio.to_thread(out.write, bytes(pending))
                pending.clear()
        await asyncio.to_thread(out.write, bytes(pending))
    return received
