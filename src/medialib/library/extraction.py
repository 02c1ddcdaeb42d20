"""A file's own metadata (EXIF, IPTC, XMP) mapped onto a media type's properties.

Each `exifExtraction` mapping names a field of the file and a metadata property; the value is
turned into the property's type, and kept only if the property's rules accept it. The request's
metadata always wins over the file's (the caller merges them that way).
"""

from __future__ import annotations

from typing import Any

from medialib.library.projects import MediaType
from medialib.media.probe.embedded import exif_date
from medialib.parsing import whole_number

_OFFSET_OF = {
    "DateTimeOriginal": "OffsetTimeOriginal",
    "DateTimeDigitized": "OffsetTimeDigitized",
    "DateTime": "OffsetTime",
}


def extracted_metadata(embedded: dict[str, Any], media_type: MediaType) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for mapping in media_type.exif_mappings:
        value = embedded.get(mapping.field)
        if value is None or mapping.property in found:
            continue
        prop = media_type.schema.properties[mapping.property]
        converted = _convert(value, prop.type, embedded.get(_OFFSET_OF.get(mapping.field, "")))
        if converted is None:
            continue
        if not media_type.schema.validate_property(prop.handle, converted):
            found[prop.handle] = converted
    return found


def _convert(value: Any, property_type: str, offset: Any) -> Any:
    texts = value if isinstance(value, list) else [value]
    texts = [str(t).strip() for t in texts if str(t).strip()]
    if not texts:
        return None
    if property_type == "li-string-list":
        return texts
    text = ", ".join(texts)
    if property_type in ("li-text", "li-string"):
        return text
    if property_type == "li-date":
        return (exif_date(text) or text)[:10]
    if property_type == "li-datetime":
        local = exif_date(text)
        if local and isinstance(offset, str) and offset.strip():
            return local + offset.strip()
        return text if "T" in text else None  # a date and time without a zone says too little
    if property_type == "li-integer":
        return _integer(text)
    if property_type == "li-numeric":
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _integer(text: str) -> int | None:
    """A whole number in ASCII digits, with an optional minus, that JSON stores as a 64-bit
    integer (at most 18 digits): a file's text is anybody's."""
    magnitude = whole_number(text.removeprefix("-"), max_digits=18)
    if magnitude is None:
        return None
    return -magnitude if text.startswith("-") else magnitude
