"""Which probes run on the event loop: only those cheaper than a hop to a thread. An SVG is
parsed whole, a video waits for a prober process, a large image reads more: those go to a
thread, where they cannot stall every other download."""

from __future__ import annotations

import pytest

from medialib.imports.kinds import CHEAP_PROBE_BYTES, FILE, IMAGE, VIDEO, ImportKind
from medialib.media.probe.sniff import Sniffed

JPEG = Sniffed("image/jpeg", "jpg")
SVG = Sniffed("image/svg+xml", "svg")
PDF = Sniffed("application/pdf", "pdf")
MP4 = Sniffed("video/mp4", "mp4")


@pytest.mark.parametrize(
    ("kind", "sniffed", "size", "on_the_loop"),
    [
        (IMAGE, JPEG, 100_000, True),
        (IMAGE, JPEG, CHEAP_PROBE_BYTES, True),
        (IMAGE, JPEG, CHEAP_PROBE_BYTES + 1, False),
        (IMAGE, SVG, 2_000, False),
        (FILE, PDF, 500_000_000, True),  # a file's probe reads nothing
        (FILE, SVG, 2_000, False),
        (VIDEO, MP4, 1_000, False),
    ],
)
def test_a_probe_runs_on_the_loop_only_when_it_is_cheap(
    kind: ImportKind, sniffed: Sniffed, size: int, on_the_loop: bool
) -> None:
    assert kind.cheap_probe(sniffed, size) is on_the_loop
