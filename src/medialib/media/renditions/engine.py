"""Making one rendition: the work is libvips' (vips.py), loaded on the first rendition.
libvips maps about 9 MB that a process which never renders (a worker, or a server before its
first image request) does not need to hold."""

from __future__ import annotations

from medialib.media.renditions.outputs import EngineLimits, Rendered, Source, Stop
from medialib.media.renditions.params import Spec


def render(source: Source, spec: Spec, output: str, limits: EngineLimits, stop: Stop) -> Rendered:
    """The rendition of `source` asked for by `spec`, encoded as `output` (one of FORMATS);
    `stop` (called from another thread) ends it with BadRequest."""
    # Imported here, not at the top, so that libvips is loaded on the first rendition only.
    from medialib.media.renditions import vips

    return vips.render(source, spec, output, limits, stop)
