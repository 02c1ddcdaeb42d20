"""Asset storage: a local folder or S3-compatible object storage behind one small class.

Keys look like `YYYY/MM/DD/<uuid>.<ext>`. Bodies are streamed in and out, never held whole.
Every obstore error is translated into `StorageError` here, at the boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import logging
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlparse

import obstore
from obstore.exceptions import AlreadyExistsError, BaseError, NotFoundError
from obstore.store import LocalStore, S3Store

from medialib.errors import ConfigError, ServiceUnavailable

if TYPE_CHECKING:
    from obstore import GetOptions, GetResult
    from obstore.store import ObjectStore

# Conservative on purpose: these keys end up in URLs and file paths.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
MAX_KEY_LENGTH = 1024
MULTIPART_CHUNK = 8 * 1024 * 1024
HEADS_AT_ONCE = 32
INLINE_READ = 256 * 1024

T = TypeVar("T")
log = logging.getLogger(__name__)


class StorageError(ServiceUnavailable):
    """Storage failed (unreachable, full, refused); the operation may succeed later.

    The message (with paths and the store's own words) is for logs; callers of the API only
    learn that storage failed.
    """

    def __init__(self, message: str) -> None:
        details = {"message": "The asset storage failed; try again later."}
        super().__init__(message, details, retry_after=30)


# obstore reports a missing local file as FileNotFoundError and a missing S3 object as its own
# NotFoundError.
_MISSING = (NotFoundError, FileNotFoundError)


def is_valid_key(key: str) -> bool:
    # fullmatch: `$` would also match before a trailing newline
    return (
        len(key) <= MAX_KEY_LENGTH
        and _KEY.fullmatch(key) is not None
        and ".." not in key.split("/")
    )


def new_key(extension: str, now: dt.datetime | None = None) -> str:
    day = (now or dt.datetime.now(dt.UTC)).strftime("%Y/%m/%d")
    return f"{day}/{uuid.uuid4()}.{extension}"


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    etag: str | None
    last_modified: dt.datetime


@dataclass(slots=True)
class ObjectBody:
    info: ObjectInfo
    start: int
    end: int  # exclusive
    chunks: AsyncIterator[bytes]


class Storage:
    def __init__(self, url: str, *, s3_endpoint: str | None = None) -> None:
        self.url = url
        self.store: ObjectStore = _open_store(url, s3_endpoint)
        self.is_local = isinstance(self.store, LocalStore)
        self._root = Path(unquote(urlparse(url).path)) if self.is_local else None
        self._folders: set[Path] = set()

    async def head(self, key: str) -> ObjectInfo | None:
        try:
            meta = await obstore.head_async(self.store, key)
        except _MISSING:
            return None
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage head {key!r} failed: {exc}") from exc
        return _info(key, meta)

    async def put(
        self,
        key: str,
        body: bytes | Path | AsyncIterable[bytes],
        *,
        content_type: str | None = None,
    ) -> None:
        """Store a body; large streams go up in parts. A failed put leaves no object behind."""
        attributes: dict[str, Any] = {}
        if content_type and not self.is_local:
            attributes["Content-Type"] = content_type
        try:
            await obstore.put_async(
                self.store,
                key,
                body,
                attributes=attributes or None,
                chunk_size=MULTIPART_CHUNK,
                max_concurrency=4,
            )
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage put {key!r} failed: {exc}") from exc

    async def signed_put_url(self, key: str, expires_in: dt.timedelta) -> str | None:
        """A URL that lets its holder PUT the object at `key` straight into the bucket until it
        expires; None for a local folder (medialib receives those uploads itself)."""
        if not isinstance(self.store, S3Store):
            return None
        try:
            return await obstore.sign_async(self.store, "PUT", key, expires_in)
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage sign {key!r} failed: {exc}") from exc

    async def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        """Store a finished download. In a local folder it is moved into place (one rename, the
        temporary folder sits beside the store); elsewhere it is streamed up, in parts when big.
        """
        if self._root is not None:
            target = self._root / key
            try:
                self._move_into_place(path, target)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise StorageError(f"storage move to {key!r} failed: {exc}") from exc
        await self.put(key, path, content_type=content_type)

    async def put_new_file(self, key: str, path: Path, *, content_type: str | None = None) -> bool:
        """Store a file at `key` only if no object is there: False (and nothing changed) when
        one is, even one that another put is storing this instant. In a local folder a hard
        link, which never replaces a file; elsewhere a conditional put."""
        if self._root is not None:
            target = self._root / key
            try:
                if target.parent not in self._folders:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self._folders.add(target.parent)
                os.link(path, target)
                return True
            except FileExistsError:
                return False
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise StorageError(f"storage link to {key!r} failed: {exc}") from exc
        attributes = {"Content-Type": content_type} if content_type and not self.is_local else None
        try:
            await obstore.put_async(self.store, key, path, attributes=attributes, mode="create")
        except AlreadyExistsError:
            return False
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage put {key!r} failed: {exc}") from exc
        return True

    def _move_into_place(self, path: Path, target: Path) -> None:
        # A rename and, once a day, a mkdir: metadata calls as quick as the open that made the
        # file, so they run inline rather than pay a thread hop per image.
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        os.replace(path, target)

    def share_bytes(self, key: str, same_as: str) -> None:
        """Let the object at `key` take no space of its own beside `same_as`, which holds the
        same bytes: in a local folder it becomes a hard link to it, so an archive's duplicates
        take their space once. Each key stays an object of its own (deleting either leaves the
        other whole). In a bucket nothing is done: a copy would take its space again. Failing
        (the other object deleted meanwhile) only leaves the object its own bytes."""
        if self._root is None:
            return
        target = self._root / key
        draft = target.with_name(f".{target.name}.same")
        try:
            os.link(self._root / same_as, draft)
            os.replace(draft, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                draft.unlink(missing_ok=True)
            log.info("%s keeps its own bytes (no link to %s: %s)", key, same_as, exc)

    async def get(self, key: str, byte_range: tuple[int, int] | None = None) -> ObjectBody | None:
        """The object's bytes, or the bytes [start, end) of it; None when there is no object."""
        options: GetOptions = {}
        if byte_range is not None:
            options["range"] = byte_range
        try:
            result = await obstore.get_async(self.store, key, options=options)
        except _MISSING:
            return None
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage get {key!r} failed: {exc}") from exc
        return _body(key, result)

    async def read_or_stream(self, key: str) -> bytes | ObjectBody | None:
        """A small object's bytes at once, as `read` (one call: an object of at most
        INLINE_READ bytes), a larger one's body as a stream; None when there is no object."""
        if self._root is not None:
            try:
                small = _read_if_small(self._root / key)
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise StorageError(f"storage read {key!r} failed: {exc}") from exc
            return small if small is not None else await self.get(key)
        try:
            result = await obstore.get_async(self.store, key)
            if int(result.meta["size"]) <= INLINE_READ:
                return bytes(await result.bytes_async())
        except _MISSING:
            return None
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage read {key!r} failed: {exc}") from exc
        return _body(key, result)

    async def first_bytes(
        self, keys: Iterable[str], count: int, read: Callable[[Head], T]
    ) -> dict[str, T | None]:
        """What `read` makes of each object's size and first `count` bytes (a ranged read, never
        the whole object); None for a key with no object.

        A local folder reads the heads one after the other in one thread, and `read` takes each
        in turn there: a thousand heads of 64 KB are never held at once (nor their pages
        faulted in afresh), and the event loop is not held up by `read`'s parsing."""
        wanted = sorted(set(keys))
        if self._root is not None:
            root = self._root
            return await asyncio.to_thread(
                lambda: {k: _read_local_head(root / k, count, read) for k in wanted}
            )
        gate = asyncio.Semaphore(HEADS_AT_ONCE)

        async def one(key: str) -> T | None:
            async with gate:
                info = await self.head(key)
                if info is None:
                    return None
                if info.size == 0:
                    return read(Head(0, b""))
                body = await self.get(key, (0, min(count, info.size)))
                if body is None:
                    return None
                return read(Head(info.size, b"".join([chunk async for chunk in body.chunks])))

        found = await asyncio.gather(*(one(key) for key in wanted))
        return dict(zip(wanted, found, strict=True))

    def local_path(self, key: str) -> Path | None:
        """The file behind `key` when the store is a local folder (libvips reads it in place)."""
        return self._root / key if self._root is not None else None

    async def read(self, key: str) -> bytes | None:
        """A small object's bytes at once; None when there is no object."""
        if self._root is not None:
            return await self._read_file(self._root / key)
        try:
            result = await obstore.get_async(self.store, key)
            return bytes(await result.bytes_async())
        except _MISSING:
            return None
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage read {key!r} failed: {exc}") from exc

    async def _read_file(self, path: Path) -> bytes | None:
        try:
            small = _read_if_small(path)
            return small if small is not None else await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"storage read {path} failed: {exc}") from exc

    async def list_keys(self, prefix: str) -> list[str]:
        """The keys under `prefix/`, sorted."""
        found: list[str] = []
        try:
            async for batch in obstore.list(self.store, prefix=prefix.rstrip("/") + "/"):
                found.extend(str(meta["path"]) for meta in batch)
        except _MISSING:
            return []
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage list {prefix!r} failed: {exc}") from exc
        return sorted(found)

    async def list_objects(self) -> AsyncIterator[list[ObjectInfo]]:
        """Every object of the store, a page at a time (in no particular order)."""
        try:
            async for batch in obstore.list(self.store):
                yield [_info(str(meta["path"]), meta) for meta in batch]
        except _MISSING:
            return
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage list failed: {exc}") from exc

    async def delete(self, key: str) -> None:
        try:
            await obstore.delete_async(self.store, key)
        except _MISSING:
            return
        except (BaseError, OSError) as exc:
            raise StorageError(f"storage delete {key!r} failed: {exc}") from exc


def _read_if_small(path: Path) -> bytes | None:
    """A small file's bytes, read inline: from the page cache that takes microseconds, less
    than a hop to a thread; None for a large file, to be read in a thread."""
    if path.stat().st_size > INLINE_READ:
        return None
    return path.read_bytes()


def _body(key: str, result: GetResult) -> ObjectBody:
    start, end = result.range
    stream = result.stream(min_chunk_size=256 * 1024)
    return ObjectBody(_info(key, result.meta), start, end, _chunks(stream))


async def _chunks(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in stream:
            yield bytes(chunk)
    except (BaseError, OSError) as exc:
        raise StorageError(f"storage read failed: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Head:
    """An object's size and its first bytes."""

    size: int
    data: bytes


def _read_local_head(path: Path, count: int, read: Callable[[Head], T]) -> T | None:
    head = _local_head(path, count)
    return None if head is None else read(head)


def _local_head(path: Path, count: int) -> Head | None:
    # Plain descriptor calls: a Python file object would also ask whether the file is a
    # terminal and where it stands, and the synchronous import reads a thousand heads at once.
    # Reading no more than the file holds spares a 64 KB buffer that would be shrunk at once.
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = os.fstat(descriptor).st_size
            return Head(size, os.pread(descriptor, min(count, size), 0))
        finally:
            os.close(descriptor)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StorageError(f"storage read {path} failed: {exc}") from exc


def _info(key: str, meta: Any) -> ObjectInfo:
    return ObjectInfo(
        key=key, size=int(meta["size"]), etag=meta.get("e_tag"), last_modified=meta["last_modified"]
    )


def _open_store(url: str, s3_endpoint: str | None) -> ObjectStore:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        path.mkdir(parents=True, exist_ok=True)
        return LocalStore(prefix=path)
    if parsed.scheme == "s3":
        return _s3_store(parsed.netloc, parsed.path.strip("/"), s3_endpoint)
    raise ConfigError(f"MEDIALIB_STORAGE_URL: unsupported storage {url!r} (use file:// or s3://)")


def _s3_store(bucket: str, prefix: str, endpoint: str | None) -> ObjectStore:
    if not bucket:
        raise ConfigError("MEDIALIB_STORAGE_URL: s3:// needs a bucket, e.g. s3://media/prefix")
    config: dict[str, Any] = {}
    if endpoint:
        config["endpoint"] = endpoint
        config["allow_http"] = endpoint.startswith("http://")
        config["virtual_hosted_style_request"] = False
    # Credentials and region come from the usual AWS_* variables, which S3Store reads itself.
    return S3Store(bucket, prefix=prefix or None, config=config or None)  # type: ignore[arg-type]
