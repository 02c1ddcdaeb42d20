"""Whether an SVG is safe to serve as an image (no scripts, no event handlers, nothing loaded from
outside, no DTDs or entities), and its size."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException

from medialib.errors import ItemError

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


def svg_size(path: Path) -> tuple[int, int]:
    """The SVG's width and height, or ItemError when it is not a well-formed, safe SVG."""
    try:
        root = SafeXML.parse(
            str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True
        ).getroot()
    except DefusedXmlException as exc:
        raise ItemError("unsafe_svg", f"the SVG declares {type(exc).__name__}") from exc
    except SafeXML.ParseError as exc:
        raise ItemError("invalid_image", f"the SVG is not well-formed XML: {exc}") from exc
    if root is None or _local(root.tag) != "svg":
        raise ItemError("invalid_image", "the document is not an SVG")
    for element in root.iter():
        problem = _unsafe(element)
        if problem:
            raise ItemError("unsafe_svg", f"the SVG {problem}")
    return _svg_size(root)


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
