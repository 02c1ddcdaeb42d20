"""Named crops against the image they crop: an entry's `li-named-crops` values must lie within
its asset's width and height, a translation's within its own asset's (or, without one, the
entry's). The shape of a crop is the metadata schema's to check; this is the one rule that needs
the asset at hand, so each place that has both asks it: the synchronous import, a PATCH (after
all its operations, since it may replace the asset too), a URL import (once the download is
probed) and the web view's form."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from medialib.library.metadata import MetadataIssue, MetadataSchema


def image_size(asset: Mapping[str, Any] | None) -> tuple[int, int] | None:
    """An asset's width and height, when it has both (an image's or a video's)."""
    if not asset:
        return None
    width, height = asset.get("width"), asset.get("height")
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    return None


def crops_outside(
    schema: MetadataSchema,
    metadata: Mapping[str, Any],
    asset: Mapping[str, Any] | None,
    translations: Iterable[Mapping[str, Any]] = (),
) -> list[MetadataIssue]:
    """The named crops of an entry, and of its translations, that its images do not hold."""
    size = image_size(asset)
    issues = schema.outside_image(metadata, *size) if size else []
    for translation in translations:
        own = image_size(translation.get("asset")) or size
        if own:
            issues += schema.outside_image(
                translation.get("metadata") or {}, *own, locale=translation.get("locale")
            )
    return issues
