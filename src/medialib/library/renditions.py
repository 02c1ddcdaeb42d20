"""Renditions of the library's images, made once: each is stored under
`v/<original key>/<digest of what it makes>.<format>` and served from there ever after, up to
`keep` of them per original (more are made and served, not stored). The original's entry
decides whether a rendition may be served, as for the original.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from medialib import metrics
from medialib.db.engine import Database
from medialib.errors import BadRequest, Forbidden, NotFound
from medialib.library.assets import descriptions_of, keys_ever_used, servable_asset, variant_prefix
from medialib.library.entries import get_entry
from medialib.media.analysis.records import FocusSource
from medialib.media.renditions.engine import render
from medialib.media.renditions.geometry import StoredFocus, read_focus
from medialib.media.renditions.outputs import (
    OUTPUT_TYPES,
    EngineLimits,
    Rendered,
    Source,
    Stop,
    variant_extension,
)
from medialib.media.renditions.params import Spec, output_format, variant_of
from medialib.media.storage import ObjectBody, Storage
from medialib.media.urls import ImageService, is_signed

SVG = "image/svg+xml"
# Sources that cannot be transparent: a background under them changes nothing.
OPAQUE_SOURCES = frozenset({"image/jpeg"})


@dataclass(frozen=True)
class Variant:
    """A rendition as stored: its key, its entity tag, its type, whether which one a URL gets
    depends on the request's Accept header, and the spec it is made from (the URL's, with
    what cannot change its bytes taken out: every URL that names it gets the same bytes)."""

    key: str
    output: str  # one of params.FORMATS
    etag: str
    mime: str
    varies_by_accept: bool
    spec: Spec

    @property
    def unstored_etag(self) -> str:
        """The tag of the same bytes when they were served without being stored: a cache
        asking again with it is told to keep them only a short while."""
        return self.etag[:-1] + '-unstored"'


@dataclass(frozen=True)
class Rendition:
    """A variant's bytes: whole when small or just made, else streamed from storage (None when
    only its size was asked for); `stored` is False when it was made and not kept."""

    body: bytes | ObjectBody | None
    size: int
    stored: bool = True


@dataclass
class Renditions:
    """Finds or makes renditions; at most `at_once` renders run at once in this process, and
    requests for the same missing variant wait for one render. At most `keep` variants of one
    original are stored: anyone may ask for a new one (w=100, 101, 102, ...), and the disk is
    not theirs to fill."""

    db: Database
    storage: Storage
    limits: EngineLimits
    service: ImageService
    at_once: int
    keep: int = 200
    renders: int = 0  # made by this process, since it started
    _gate: asyncio.Semaphore | None = field(default=None, repr=False)
    _making: dict[str, asyncio.Future[Rendition | None]] = field(default_factory=dict, repr=False)

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
        asset = await servable_asset(self.db, key)
        mime = asset.mime_type
        if mime == SVG:
            return None
        if not mime.startswith("image/"):
            raise BadRequest("not an image", details={"image": "only images have renditions"})
        if spec.uses_focus:  # its variant is named by the picture's focus too
            focus = await picture_focus(self.db, asset.project, key)
            spec = spec.focused(focus.point, focus.faces)
        output = output_format(spec, mime, accept)
        made, digest = variant_of(
            spec, output, self.limits.max_side, alpha=mime not in OPAQUE_SOURCES
        )
        return Variant(
            key=f"{variant_prefix(key)}/{digest}.{variant_extension(output)}",
            output=output,
            etag=f'"{digest}"',
            mime=OUTPUT_TYPES[output],
            varies_by_accept=spec.auto_format and spec.fm is None,
            spec=made,
        )

    async def read(self, key: str, variant: Variant, *, body: bool = True) -> Rendition:
        """The variant, from storage or made now (and stored, if its original may have one
        more); with `body` False, only its size (HEAD)."""
        stored = await self._stored(variant, body)
        metrics.RENDITIONS.labels("miss" if stored is None else "hit").inc()
        if stored is not None:
            return stored
        making = self._making.get(variant.key)
        if making is None:
            making = asyncio.ensure_future(self._make(key, variant))
            self._making[variant.key] = making
            making.add_done_callback(lambda _: self._making.pop(variant.key, None))
        made = await asyncio.shield(making)
        if made is None:  # stored by a render that ended while this request looked
            made = await self._stored(variant, body)
            if made is None:
                raise NotFound(details={"message": "No asset found."})
        return made if body else replace(made, body=None)

    async def hit(self, variant: Variant, *, body: bool = True) -> Rendition | None:
        """The variant if it is stored (counted as a hit, as `read` counts it); None, and
        nothing counted, when it is not: `read` then makes it."""
        stored = await self._stored(variant, body)
        if stored is not None:
            metrics.RENDITIONS.labels("hit").inc()
        return stored

    async def _stored(self, variant: Variant, body: bool) -> Rendition | None:
        """The stored variant: small ones read whole in one call, larger ones streamed (a
        variant can be tens of MB, and many clients may ask at once)."""
        if not body:
            info = await self.storage.head(variant.key)
            return None if info is None else Rendition(None, info.size)
        found = await self.storage.read_or_stream(variant.key)
        if found is None:
            return None
        size = len(found) if isinstance(found, bytes) else found.end - found.start
        return Rendition(found, size)

    async def _make(self, key: str, variant: Variant) -> Rendition | None:
        """The variant made now, in memory (bounded by what a render may make); None when it
        turns out to be stored already."""
        # A render that finished while the caller's own read was on its way left `_making`
        # after storing the variant: read it rather than make it twice.
        if await self.storage.head(variant.key) is not None:
            return None
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.at_once)
        async with self._gate:
            source = self.storage.local_path(key) or await self.storage.read(key)
            if source is None or (not isinstance(source, bytes) and not source.is_file()):
                raise NotFound(details={"message": "No asset found."})
            rendered = await self._render(source, variant.spec, variant.output)
        self.renders += 1
        stored = await self._store(key, variant, rendered.data)
        return Rendition(rendered.data, len(rendered.data), stored)

    async def _store(self, key: str, variant: Variant, data: bytes) -> bool:
        """Store the variant unless its original has `keep` already (renders under way in
        other processes may pass the bound by a few)."""
        if len(await self.storage.list_keys(variant_prefix(key))) >= self.keep:
            return False
        await self.storage.put(variant.key, data, content_type=variant.mime)
        return True

    async def _render(self, source: Source, spec: Spec, output: str) -> Rendered:
        """Render in a thread, stopped at the deadline by this loop (libvips then ends its work
        before the thread returns: the CPU is free when the caller hears of it)."""
        stop = Stop()
        deadline = asyncio.get_running_loop().call_later(self.limits.max_seconds, stop)
        try:
            with metrics.RENDER_DURATION.time():
                return await asyncio.to_thread(render, source, spec, output, self.limits, stop)
        finally:
            deadline.cancel()


async def picture_focus(db: Database, project: str, key: str) -> StoredFocus:
    """The focal point and faces of the picture at `key`, as the entries holding it store them.
    An object shared by several entries takes the description of the oldest whose focal point
    an editor placed, else the oldest's."""
    described = await descriptions_of(db, project, key)
    placed = [asset for asset in described if _placed_by_editor(asset)]
    return read_focus((placed or described or [{}])[0])


def _placed_by_editor(asset: dict[str, Any]) -> bool:
    point = asset.get("focalPoint")
    return isinstance(point, dict) and point.get("source") == FocusSource.EDITOR


async def keys_of_entry(db: Database, storage: Storage, project: str, entry_id: str) -> list[str]:
    """Every key the entry has or had (its assets, its translations' assets, posters, assets
    it replaced) and every rendition made of them: what a CDN must purge."""
    entry = await get_entry(db, project, entry_id)
    keys = list(dict.fromkeys(entry.asset_keys() + await keys_ever_used(db, project, entry_id)))
    variants = [await storage.list_keys(variant_prefix(key)) for key in keys]
    return keys + [variant for found in variants for variant in found]
