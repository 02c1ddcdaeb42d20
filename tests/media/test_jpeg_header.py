"""The JPEG header reader answers as Pillow does, or leaves the answer to it (None): on JPEGs
Pillow writes with every EXIF orientation, with XMP, thumbnails and comments, and on those bytes
mutated, truncated and spliced (hypothesis)."""

from __future__ import annotations

import io
import warnings

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from medialib.media.probe.facts import read_facts
from medialib.media.probe.jpeg_header import JpegHeader, read_jpeg_header

ORIENTATION = 0x0112


def pillow(head: bytes) -> JpegHeader | None:
    """What Pillow says of the same bytes (as `read_facts` asked it before the reader)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(head)) as image:
                if image.format != "JPEG":
                    return None
                exif = image.getexif()
                return JpegHeader(*image.size, exif.get(ORIENTATION))
    except Exception:
        return None


def jpeg(
    size: tuple[int, int] = (40, 30),
    mode: str = "RGB",
    orientation: int | None = None,
    xmp: bytes | None = None,
    comment: bytes | None = None,
    progressive: bool = False,
    thumbnail: bool = False,
) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if thumbnail:
        exif[0x010F] = "Camera maker"  # IFD0 with more than one entry, and a next IFD below
        exif.get_ifd(0x8769)[0x9003] = "2026:12:06 10:00:00"
    options: dict[str, object] = {"exif": exif.tobytes()} if len(exif) or thumbnail else {}
    if xmp is not None:
        options["xmp"] = xmp
    if comment is not None:
        options["comment"] = comment
    out = io.BytesIO()
    Image.new(mode, size, 128).save(out, "JPEG", progressive=progressive, **options)
    return out.getvalue()


ORIENTATIONS = [None, *range(0, 10)]


def test_plain_jpegs_are_read_without_pillow_and_alike() -> None:
    for orientation in ORIENTATIONS:
        for mode in ("RGB", "L", "CMYK"):
            for progressive in (False, True):
                data = jpeg((123, 45), mode, orientation, progressive=progressive, thumbnail=True)
                read = read_jpeg_header(data)
                assert read is not None
                assert read == pillow(data) == JpegHeader(123, 45, orientation)


def test_what_pillow_would_read_otherwise_is_left_to_it() -> None:
    turned_in_xmp = jpeg(xmp=b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>')
    assert read_jpeg_header(turned_in_xmp) is None
    assert pillow(turned_in_xmp) == JpegHeader(40, 30, 6)
    padded = jpeg().replace(b"\xff\xdb", b"\xff\xff\xdb", 1)  # fill bytes before a marker
    assert read_jpeg_header(padded) is None
    assert read_jpeg_header(jpeg()[:200]) is None  # the scan is not in the head


def test_facts_are_the_same_with_the_reader() -> None:
    for orientation in ORIENTATIONS:
        data = jpeg((64, 48), orientation=orientation, comment=b"x" * 300)
        facts = read_facts(len(data), data)
        assert (facts.width, facts.height) == (64, 48)
        assert facts.turned == (orientation in {5, 6, 7, 8})


SAMPLES = [
    jpeg(),
    jpeg((7, 9), "L", 6, thumbnail=True),
    jpeg((300, 200), "CMYK", 8, comment=b"archive"),
    jpeg((16, 16), orientation=3, progressive=True, thumbnail=True),
    jpeg(xmp=b"<x/>", orientation=5),
]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255)), max_size=6),
    st.integers(2, 2000),
)
def test_mutated_jpegs_are_read_as_pillow_reads_them_or_left_to_it(
    sample: bytes, changes: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(sample[:cut])
    for at, value in changes:
        if at < len(data):
            data[at] = value
    read = read_jpeg_header(bytes(data))
    if read is not None:
        assert read == pillow(bytes(data))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(SAMPLES), st.integers(2, 400))
def test_spliced_segments_are_read_as_pillow_reads_them_or_left_to_it(
    junk: bytes, sample: bytes, at: int
) -> None:
    data = sample[:at] + junk + sample[at:]
    read = read_jpeg_header(data)
    if read is not None:
        assert read == pillow(data)
