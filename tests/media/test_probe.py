"""Types from bytes, image sizes from headers, truncation, bombs and unsafe SVG (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medialib.errors import ItemError
from medialib.media.probe.image import probe_image
from medialib.media.probe.sniff import sniff
from medialib.media.probe.svg import svg_size
from tests.support import media


@pytest.mark.parametrize(
    ("body", "mime"),
    [
        (media.jpeg(), "image/jpeg"),
        (media.png(), "image/png"),
        (media.gif(), "image/gif"),
        (media.webp(), "image/webp"),
        (media.SVG, "image/svg+xml"),
        (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (media.PDF, "application/pdf"),
        (media.HTML, "text/html"),
        (b"  <!-- x --><html><body>", "text/html"),
        (b"<script>alert(1)</script>", "text/html"),
        (b"PK\x03\x04" + b"\x00" * 60, "application/zip"),
        (b"plain words", "text/plain"),
        (b"\x00\x01\x02\x03binary", "application/octet-stream"),
    ],
)
def test_the_type_comes_from_the_bytes(body: bytes, mime: str) -> None:
    assert sniff(body[:4096]).mime == mime


def _probe(tmp_path: Path, body: bytes, max_pixels: int = 24_000_000) -> object:
    path = tmp_path / "body"
    path.write_bytes(body)
    return probe_image(path, sniff(body[:4096]), body[-1024:], max_pixels)


@pytest.mark.parametrize("make", [media.jpeg, media.png, media.gif, media.webp])
def test_sizes_come_from_the_header(tmp_path: Path, make: object) -> None:
    info = _probe(tmp_path, make(321, 123))  # type: ignore[operator]

    assert (info.width, info.height) == (321, 123)  # type: ignore[attr-defined]


@pytest.mark.parametrize("make", [media.jpeg, media.png, media.gif, media.webp])
def test_a_cut_short_image_is_refused(tmp_path: Path, make: object) -> None:
    body = make(300, 200)  # type: ignore[operator]

    with pytest.raises(ItemError) as refused:
        _probe(tmp_path, media.truncated(body))

    assert refused.value.code in ("truncated_image", "invalid_image")


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    with pytest.raises(ItemError) as refused:
        _probe(tmp_path, media.png_bomb())

    assert refused.value.code == "too_many_pixels"


def test_the_pixel_limit_is_a_setting(tmp_path: Path) -> None:
    with pytest.raises(ItemError, match="100x100 is more than 9,999 pixels"):
        _probe(tmp_path, media.png(100, 100), max_pixels=9_999)


def test_a_polyglot_is_judged_by_what_it_starts_as(tmp_path: Path) -> None:
    # A GIF header followed by HTML and script: it is checked as the GIF it claims to be.
    polyglot = b"GIF89a" + b"<html><script>alert(1)</script></html>"

    with pytest.raises(ItemError) as refused:
        _probe(tmp_path, polyglot)

    assert refused.value.code == "invalid_image"


SVG_NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


@pytest.mark.parametrize(
    ("attributes", "size"),
    [
        ('width="120" height="80"', (120, 80)),
        ('width="120px" height="80.4"', (120, 80)),
        ('viewBox="0 0 400 300"', (400, 300)),
        ('width="200" viewBox="0 0 400 300"', (200, 150)),
        ("", (300, 150)),
        ('width="50%" height="auto"', (300, 150)),
        ('width="210mm" height="297mm" viewBox="0 0 210 297"', (794, 1123)),
        ('width="72pt" height="1in"', (96, 96)),
        ('width="1e400" height="-5" viewBox="0 0 4 3"', (4, 3)),
    ],
)
def test_svg_sizes(tmp_path: Path, attributes: str, size: tuple[int, int]) -> None:
    path = tmp_path / "x.svg"
    path.write_text(f'<svg {SVG_NS} {attributes}><rect fill="url(#g)" width="1" height="1"/></svg>')

    assert svg_size(path) == size


def test_embedded_metadata_is_read_from_exif(tmp_path: Path) -> None:
    info = _probe(tmp_path, media.jpeg(ImageDescription="Sunset", Artist="Jane"))

    assert info.embedded == {"ImageDescription": "Sunset", "Artist": "Jane"}  # type: ignore[attr-defined]


def test_embedded_metadata_is_read_from_xmp(tmp_path: Path) -> None:
    info = _probe(tmp_path, media.jpeg_with_xmp())

    assert info.embedded == {  # type: ignore[attr-defined]
        "xmp:photoshop:Credit": "Agency X",
        "xmp:dc:title": "Harbour at dawn",
        "xmp:dc:subject": ["harbour", "dawn"],
    }
