"""Renditions of the library's images, made once: each is stored under
`v/<original key>/<digest of its normalised parameters>.<format>` and served from there ever
after. The original's entry decides whether a rendition may be served, as for the original.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from medialib.db.engine import Database
from medialib.errors import BadRequest, Forbidden, NotFound
from medialib.library.assets import keys_ever_used, servable, variant_prefix
from medialib.library.entries import get_entry
from medialib.media.renditions.engine import render
from medialib.media.renditions.outputs import (
    OUTPUT_TYPES,
    EngineLimits,
    Rendered,
    Source,
    Stop,
    variant_extension,
)
from medialib.media.renditions.params import Spec, output_format
from medialib.media.storage import Storage
from medialib.media.urls import ImageService, is_signed

SVG = "image/svg+xml"


@dataclass(frozen=True)
class Variant:
    """A rendition as stored: its key, its entity tag, its type, and whether which one a URL
    gets depends on the request's Accept header."""

    key: str
    output: str  # one of params.FORMATS
    etag: str
    mime: str
    varies_by_accept: bool


@dataclass
class Renditions:
    """Finds or makes renditions; at most `at_once` renders run at once in this process, and
    requests for the same missing variant wait for one render."""

    db: Database
    storage: Storage
    limits: EngineLimits
    service: ImageService
    at_once: int
    renders: int = 0  # made by this process, since it started
    _gate: asyncio.Semaphore | None = field(default=None, repr=False)
    _making: dict[str, asyncio.Future[bytes]] = field(default_factory=dict, repr=False)

    def check_signature(self, request_path: str, key: str, raw_query: str) -> None:
        """With a secure token, a rendition URL must carry its signature `s`, made over the
        path it was handed out under (or the path it reached medialib by)."""
        token = self.service.secure_token
        if token is None:
            return
        paths = (f"{self.service.path}/{key}", request_path)
        if not is_signed(token, paths, raw_query):
            raise Forbidden(
                "bad signature",
                details={"message": "The rendition URL's signature (s) is missing or wrong."},
            )

    async def find(self, key: str, spec: Spec, accept: str | None) -> Variant | None:
        """The variant a rendition URL names, once the original may be served; None for an
        SVG original, which is served as it is."""
        mime = await servable(self.db, key)
        if mime == SVG:
            return None
        if not mime.startswith("image/"):
            raise BadRequest("not an image", details={"image": "only images have renditions"})
        output = output_format(spec, mime, accept)
        digest = spec.digest(output)
        return Variant(
            key=f"{variant_prefix(key)}/{digest}.{variant_extension(output)}",
            output=output,
            etag=f'"{digest}"',
            mime=OUTPUT_TYPES[output],
            varies_by_accept=spec.auto_format and spec.fm is None,
        )

    async def read(self, key: str, spec: Spec, variant: Variant) -> bytes:
        """The variant's bytes: from storage, or made now (and stored) when missing."""
        stored = await self.storage.read(variant.key)
        if stored is not None:
            return stored
        making = self._making.get(variant.key)
        if making is None:
            making = asyncio.ensure_future(self._make(key, spec, variant))
            self._making[variant.key] = making
            making.add_done_callback(lambda _: self._making.pop(variant.key, None))
        return await asyncio.shield(making)

    async def _make(self, key: str, spec: Spec, variant: Variant) -> bytes:
        # A render that finished while the caller's own read was on its way left `_making`
        # after storing the variant: read again rather than make it twice.
        stored = await self.storage.read(variant.key)
        if stored is not None:
            return stored
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.at_once)
        async with self._gate:
            source = self.storage.local_path(key) or await self.storage.read(key)
            if source is None or (not isinstance(source, bytes) and not source.is_file()):
                raise NotFound(details={"message": "No asset found."})
            rendered = await self._render(source, spec, variant.output)
        self.renders += 1
        await self.storage.put(variant.key, rendered.data, content_type=variant.mime)
        return rendered.data

    async def _render(self, source: Source, spec: Spec, output: str) -> Rendered:
        """Render in a thread, stopped at the deadline by this loop (libvips then ends its work
        before the thread returns: the CPU is free when the caller hears of it)."""
        stop = Stop()
        deadline = asyncio.get_running_loop().call_later(self.limits.max_seconds, stop)
        try:
            return await asyncio.to_thread(render, source, spec, output, self.limits, stop)
        finally:
            deadline.cancel()


async def keys_of_entry(db: Database, storage: Storage, project: str, entry_id: str) -> list[str]:
    """Every key the entry has or had (its assets, its translations' assets, posters, assets
    it replaced) and every rendition made of them: what a CDN must purge."""
    entry = await get_entry(db, project, entry_id)
    keys = list(dict.fromkeys(entry.asset_keys() + await keys_ever_used(db, project, entry_id)))
    variants = [await storage.list_keys(variant_prefix(key)) for key in keys]
    return keys + [variant for found in variants for variant in found]
