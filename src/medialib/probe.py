"""What a downloaded body really is: its type from its bytes, an image's size from its header
(no pixels decoded), whether it is whole, whether an SVG is safe, and its embedded metadata.

Everything here is CPU work on a file; callers run it in a thread.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import filetype
from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException
from PIL import ExifTags, Image, IptcImagePlugin, UnidentifiedImageError

# Pillow's own bomb check is turned off: the caller's pixel limit is checked on the header.
Image.MAX_IMAGE_PIXELS = None


class ProbeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Sniffed:
    mime: str
    extension: str

    @property
    def is_image(self) -> bool:
        return self.mime in IMAGE_TYPES


IMAGE_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/svg+xml": "svg",
}
HTML = Sniffed("text/html", "html")
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|script|iframe)[\s>]", re.I | re.S
)
# An XML prolog (declaration, comments, a doctype, possibly with an internal subset) and then
# an <svg> element: loose on purpose, the safe parser has the last word.
_SVG_START = re.compile(rb"^\s*(<\?xml|<!--|<!doctype\s+svg|<svg[\s>])", re.I)


def sniff(head: bytes) -> Sniffed:
    """The type of a body from its first bytes; names and headers are not asked."""
    body = head.removeprefix(b"\xef\xbb\xbf")
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png", "png")
    if body.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg", "jpeg")
    if body[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image/gif", "gif")
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return Sniffed("image/webp", "webp")
    if _HTML_START.match(body):
        return HTML
    if _SVG_START.match(body) and re.search(rb"<svg[\s>]", body, re.I):
        return Sniffed("image/svg+xml", "svg")
    kind = filetype.guess(body)
    if kind is not None:
        return Sniffed(kind.mime, kind.extension)
    if body.startswith(b"%PDF-"):
        return Sniffed("application/pdf", "pdf")
    if _is_text(body):
        return Sniffed("text/plain", "txt")
    return Sniffed("application/octet-stream", "bin")


def _is_text(body: bytes) -> bool:
    if b"\x00" in body:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed bytes is still text.
        return exc.start >= len(body) - 3
    return True


@dataclass
class ImageInfo:
    width: int
    height: int
    mime: str
    embedded: dict[str, Any] = field(default_factory=dict)


def probe_image(path: Path, sniffed: Sniffed, tail: bytes, max_pixels: int) -> ImageInfo:
    if sniffed.mime == "image/svg+xml":
        return probe_svg(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                fmt = Image.MIME.get(image.format or "", "")
                if fmt != sniffed.mime:
                    raise ProbeError(
                        "invalid_image", f"the bytes are not a readable {sniffed.extension}"
                    )
                width, height = image.size
                if width < 1 or height < 1:
                    raise ProbeError("invalid_image", "the image has no pixels")
                if width * height > max_pixels:
                    raise ProbeError(
                        "too_many_pixels",
                        f"{width}x{height} is more than {max_pixels:,} pixels",
                    )
                _check_whole(sniffed, path, tail)
                return ImageInfo(width, height, sniffed.mime, embedded_metadata(image))
    except ProbeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ProbeError("invalid_image", f"not a readable {sniffed.extension}: {exc}") from exc


def _check_whole(sniffed: Sniffed, path: Path, tail: bytes) -> None:
    """A truncated image has a header but not its end marker (checked without decoding)."""
    if sniffed.mime == "image/jpeg":
        whole = b"\xff\xd9" in tail[-64:]
    elif sniffed.mime == "image/png":
        whole = b"IEND" in tail[-64:]
    elif sniffed.mime == "image/gif":
        whole = tail.rstrip(b"\x00").endswith(b";")
    else:
        whole = _riff_complete(path)
    if not whole:
        raise ProbeError(
            "truncated_image",
            f"the {sniffed.extension} does not end as one must (cut short, or more appended)",
        )


def _riff_complete(path: Path) -> bool:
    with path.open("rb") as file:
        header = file.read(12)
    declared = int.from_bytes(header[4:8], "little") + 8
    return path.stat().st_size >= declared


# --- SVG ------------------------------------------------------------------------------------

_SVG_NS = "{http://www.w3.org/2000/svg}"
_FORBIDDEN_ELEMENTS = {
    "script",
    "foreignobject",
    "iframe",
    "embed",
    "object",
    "handler",
    "listener",
}
_HREF_ATTRIBUTES = {"href", "{http://www.w3.org/1999/xlink}href"}
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.I)
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")


def probe_svg(path: Path) -> ImageInfo:
    try:
        root = SafeXML.parse(
            str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True
        ).getroot()
    except DefusedXmlException as exc:
        raise ProbeError("unsafe_svg", f"the SVG declares {type(exc).__name__}") from exc
    except SafeXML.ParseError as exc:
        raise ProbeError("invalid_image", f"the SVG is not well-formed XML: {exc}") from exc
    if root is None or _local(root.tag) != "svg":
        raise ProbeError("invalid_image", "the document is not an SVG")
    for element in root.iter():
        problem = _unsafe(element)
        if problem:
            raise ProbeError("unsafe_svg", f"the SVG {problem}")
    width, height = _svg_size(root)
    return ImageInfo(width, height, "image/svg+xml", {})


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _unsafe(element: Element) -> str | None:
    name = _local(element.tag)
    if name in _FORBIDDEN_ELEMENTS:
        return f"has a <{name}> element"
    for attribute, value in element.attrib.items():
        local = _local(attribute)
        if local.startswith("on"):
            return f"has an event handler ({local})"
        if attribute in _HREF_ATTRIBUTES and not _internal(value):
            return f"references {value[:80]!r}"
        if local == "style" and _external_css(value):
            return "loads something from outside in a style"
    if name == "style" and _external_css(element.text or ""):
        return "loads something from outside in a <style>"
    return None


def _internal(reference: str) -> bool:
    cleaned = re.sub(r"\s", "", reference).lower()
    return cleaned.startswith("#") or cleaned.startswith("data:image/")


def _external_css(css: str) -> bool:
    if "@import" in css.lower():
        return True
    return any(not _internal(target) for target in _CSS_URL.findall(css) if target)


def _svg_size(root: Element) -> tuple[int, int]:
    width, height = _length(root.get("width")), _length(root.get("height"))
    view_box = (root.get("viewBox") or "").replace(",", " ").split()
    if (width is None or height is None) and len(view_box) == 4:
        try:
            box_width, box_height = float(view_box[2]), float(view_box[3])
        except ValueError:
            box_width = box_height = 0
        if box_width > 0 and box_height > 0:
            if width is None and height is None:
                width, height = box_width, box_height
            elif width is None:
                width = height * box_width / box_height  # type: ignore[operator]
            else:
                height = width * box_height / box_width
    # A browser's size for a replaced element that says nothing about its size.
    return max(1, round(width or 300)), max(1, round(height or 150))


def _length(value: str | None) -> float | None:
    match = _LENGTH.match(value or "")
    return float(match.group(1)) if match and float(match.group(1)) > 0 else None


# --- Embedded metadata -----------------------------------------------------------------------

_EXIF_NAMES = {name: tag for tag, name in ExifTags.TAGS.items()}
_IPTC = {
    "iptc:ObjectName": (2, 5),
    "iptc:Keywords": (2, 25),
    "iptc:Byline": (2, 80),
    "iptc:City": (2, 90),
    "iptc:Country": (2, 101),
    "iptc:Headline": (2, 105),
    "iptc:Credit": (2, 110),
    "iptc:Source": (2, 115),
    "iptc:CopyrightNotice": (2, 116),
    "iptc:Caption": (2, 120),
}


def embedded_metadata(image: Image.Image) -> dict[str, Any]:
    """EXIF tags by name (`Artist`, `DateTimeOriginal`), IPTC as `iptc:<name>`, XMP as
    `xmp:<prefix>:<name>` (`xmp:dc:title`); values as text or lists of text."""
    found: dict[str, Any] = {}
    try:
        exif = image.getexif()
        tags = dict(exif) | dict(exif.get_ifd(ExifTags.IFD.Exif))
    except Exception:
        tags = {}
    for name, tag in _EXIF_NAMES.items():
        if tag in tags:
            text = _text(tags[tag])
            if text:
                found[name] = text
    found |= _iptc(image)
    found |= _xmp(image)
    return found


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace").rstrip("\x00")
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return str(value)
    return None


def _iptc(image: Image.Image) -> dict[str, Any]:
    try:
        info = IptcImagePlugin.getiptcinfo(image) or {}  # type: ignore[arg-type]
    except Exception:
        return {}
    found: dict[str, Any] = {}
    for name, key in _IPTC.items():
        value = info.get(key)
        if isinstance(value, list):
            found[name] = [t for t in (_text(v) for v in value) if t]
        elif (text := _text(value)) is not None:
            found[name] = text
    return found


def _xmp(image: Image.Image) -> dict[str, Any]:
    try:
        xmp = image.getxmp()
    except Exception:
        return {}
    description = (
        xmp.get("xmpmeta", {}).get("RDF", {}).get("Description", {})
        if isinstance(xmp, dict)
        else {}
    )
    if isinstance(description, list):
        description = description[0] if description else {}
    found: dict[str, Any] = {}
    for key, value in description.items() if isinstance(description, dict) else ():
        text = _xmp_value(value)
        if text is not None:
            found[f"xmp:{_XMP_PREFIXES.get(key, '')}{key}"] = text
    return found


_XMP_PREFIXES = {
    "title": "dc:",
    "description": "dc:",
    "creator": "dc:",
    "rights": "dc:",
    "subject": "dc:",
    "Headline": "photoshop:",
    "Credit": "photoshop:",
    "Source": "photoshop:",
    "City": "photoshop:",
    "Country": "photoshop:",
}


def _xmp_value(value: Any) -> Any:
    """XMP's rdf:Alt / rdf:Seq / rdf:Bag wrappers down to text or a list of text."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for wrapper in ("Alt", "Seq", "Bag"):
            if wrapper in value:
                items = value[wrapper].get("li") if isinstance(value[wrapper], dict) else None
                if isinstance(items, list):
                    texts = [t for t in (_xmp_value(i) for i in items) if isinstance(t, str)]
                    return texts[0] if wrapper == "Alt" and texts else texts
                return _xmp_value(items)
        if "text" in value:
            return _xmp_value(value["text"])
    return None


def exif_date(value: str) -> str | None:
    """EXIF's `2024:01:02 10:00:00` as ISO (`2024-01-02T10:00:00`), or None."""
    try:
        return dt.datetime.strptime(value.strip(), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None
