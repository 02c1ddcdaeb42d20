"""A file's own metadata: EXIF tags, IPTC and XMP fields, read by Pillow from an open image."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PIL import ExifTags, Image, IptcImagePlugin

_EXIF_NAMES = {name: tag for tag, name in ExifTags.TAGS.items()}
_IPTC = {
    "iptc:ObjectAttributeReference": (2, 4),
    "iptc:ObjectName": (2, 5),
    "iptc:SubjectReference": (2, 12),
    "iptc:Keywords": (2, 25),
    "iptc:SpecialInstructions": (2, 40),
    "iptc:DateCreated": (2, 55),
    "iptc:TimeCreated": (2, 60),
    "iptc:Byline": (2, 80),
    "iptc:BylineTitle": (2, 85),
    "iptc:City": (2, 90),
    "iptc:Sublocation": (2, 92),
    "iptc:ProvinceState": (2, 95),
    "iptc:CountryCode": (2, 100),
    "iptc:Country": (2, 101),
    "iptc:OriginalTransmissionReference": (2, 103),
    "iptc:Headline": (2, 105),
    "iptc:Credit": (2, 110),
    "iptc:Source": (2, 115),
    "iptc:CopyrightNotice": (2, 116),
    "iptc:Caption": (2, 120),
    "iptc:WriterEditor": (2, 122),
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
