"""Whether an SVG is safe to serve as an image, and its size.

An SVG opened on its own (a link to it, a bucket serving it) is a document: it can run
script, follow links and load resources. The check is an allowlist (media/probe/svg_allowed.py),
since a list of dangerous things keeps missing the next one: the elements and attributes of
static and animated graphics, references inside the document only (`#id`; a raster image in a
data: URL for <image>), CSS without anything that loads, no processing instruction, no
entity, no DTD but the SVG 1.x document type. An SVG is parsed as it streams in (expat,
through handlers of our own that refuse what defusedxml refuses), so memory stays small; it
is checked whole, up to `SVG_MAX_BYTES`, whichever way it is imported."""

from __future__ import annotations

import re
from pathlib import Path
from xml.parsers import expat

from medialib.errors import ItemError
from medialib.media.probe import svg_allowed as allowed

# The most bytes of an SVG that are checked (and so the largest SVG taken), by URL imports
# as images or files and by registrations alike: the image cap's default.
SVG_MAX_BYTES = 15 * 1024 * 1024
_CHUNK = 256 * 1024
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
# CSS pixels per unit, as a browser sizes an SVG it is given on its own.
_UNITS = {"": 1.0, "px": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "q": 96 / 101.6}
_UNITS |= {"pt": 96 / 72, "pc": 16.0}


def svg_size(path: Path) -> tuple[int, int]:
    """The SVG's width and height in CSS pixels, or ItemError: `invalid_image` when it is not
    a well-formed SVG, `unsafe_svg` (saying what) when it holds anything beyond the allowlist."""
    check = SvgCheck()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            check.feed(chunk)
    return check.close()


def check_svg(data: bytes) -> tuple[int, int]:
    """`svg_size` of bytes in hand."""
    check = SvgCheck()
    check.feed(data)
    return check.close()


def _unsafe(problem: str) -> ItemError:
    return ItemError("unsafe_svg", f"the SVG {problem}")


class SvgCheck:
    """An SVG fed in pieces; `close` answers its size or raises ItemError."""

    def __init__(self) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.XmlDeclHandler = self._declaration
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.UnparsedEntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external_entity
        parser.SkippedEntityHandler = self._entity
        parser.ProcessingInstructionHandler = self._instruction
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self._parser = parser
        self._open: list[str] = []  # the open elements' local names
        self._style: list[str] | None = None  # the text of the open <style>
        self._size: tuple[int, int] | None = None

    def feed(self, data: bytes) -> None:
        self._parse(data, final=False)

    def close(self) -> tuple[int, int]:
        self._parse(b"", final=True)
        if self._size is None:
            raise ItemError("invalid_image", "the document is not an SVG")
        return self._size

    def _parse(self, data: bytes, *, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise ItemError("invalid_image", f"the SVG is not well-formed XML: {exc}") from exc
        except (ValueError, LookupError) as exc:  # an encoding expat cannot read
            raise ItemError("invalid_image", f"the SVG cannot be decoded: {exc}") from exc

    # --- the prolog -------------------------------------------------------------------------

    def _declaration(self, version: str | None, encoding: str | None, standalone: int) -> None:
        if encoding is not None and encoding.lower() not in allowed.ENCODINGS:
            raise _unsafe(
                f"declares the encoding {encoding[:40]!r} (UTF-8, UTF-16, ASCII, Latin-1)"
            )

    def _doctype(
        self, name: str, system: str | None, public: str | None, internal_subset: int
    ) -> None:
        if internal_subset:
            raise _unsafe("declares a DTD of its own (entities or attribute defaults)")
        if name != "svg" or not _w3c_svg_dtd(system, public):
            raise _unsafe(f"declares a DTD other than SVG's ({(public or system or name)[:80]!r})")

    def _entity(self, *_: object) -> None:
        raise _unsafe("declares or uses entities")

    def _external_entity(self, *_: object) -> int:
        raise _unsafe("refers to an external entity")

    def _instruction(self, target: str, data: str) -> None:
        if target not in allowed.PROCESSING_INSTRUCTIONS:
            raise _unsafe(f"has a processing instruction <?{target[:40]}?>")

    # --- the document -----------------------------------------------------------------------

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        namespace, name = _split(tag)
        if self._style is not None:
            raise _unsafe("has an element inside a <style>")
        if self._size is None:
            if name != "svg" or namespace not in (allowed.SVG_NS, None):
                raise ItemError("invalid_image", "the document is not an SVG")
            self._size = _svg_size(attributes)
        if namespace in (allowed.SVG_NS, None):
            _check_svg_element(name, attributes)
        elif _is_metadata(namespace):
            _check_metadata_element(attributes)
        else:
            raise _unsafe(f"has a <{name[:40]}> element of namespace {namespace[:80]!r}")
        self._open.append(name if namespace in (allowed.SVG_NS, None) else "")
        if self._open[-1] == "style":
            self._style = []

    def _end(self, tag: str) -> None:
        if self._open.pop() == "style" and self._style is not None:
            problem = css_problem("".join(self._style))
            self._style = None
            if problem:
                raise _unsafe(f"{problem} in a <style>")

    def _text(self, text: str) -> None:
        if self._style is not None:
            self._style.append(text)


def _w3c_svg_dtd(system: str | None, public: str | None) -> bool:
    return (public is None or allowed.DOCTYPE_PUBLIC.fullmatch(public) is not None) and (
        system is None or allowed.DOCTYPE_SYSTEM.fullmatch(system) is not None
    )


def _split(name: str) -> tuple[str | None, str]:
    """expat's "namespace local" (or "local" outside any namespace) as its two parts."""
    namespace, _, local = name.rpartition(" ")
    return namespace or None, local


def _is_metadata(namespace: str) -> bool:
    return namespace in allowed.METADATA_NAMESPACES or namespace.startswith(
        allowed.METADATA_NAMESPACE_PREFIX
    )


def _check_svg_element(element: str, attributes: dict[str, str]) -> None:
    if element not in allowed.ELEMENTS:
        raise _unsafe(f"has a <{element[:40]}> element")
    for tag, value in attributes.items():
        namespace, name = _split(tag)
        _check_scripting(name, value)
        if namespace is None:
            problem = _attribute_problem(element, name, value)
        elif namespace == allowed.XLINK_NS and name in allowed.XLINK_ATTRIBUTES:
            problem = _href_problem(element, value) if name == "href" else None
        elif _inert_attribute(namespace, name):
            problem = None
        else:
            problem = f"has a {_prefixed(namespace, name)!r} attribute"
        if problem:
            raise _unsafe(f"{problem} (on <{element}>)")


def _inert_attribute(namespace: str, name: str) -> bool:
    if namespace == allowed.XML_NS:
        return name in allowed.XML_ATTRIBUTES
    return namespace != allowed.XLINK_NS and _is_metadata(namespace)


def _prefixed(namespace: str, name: str) -> str:
    prefix = {allowed.XLINK_NS: "xlink", allowed.XML_NS: "xml"}.get(namespace)
    return f"{prefix}:{name[:40]}" if prefix else f"{{{namespace[:80]}}}{name[:40]}"


def _check_metadata_element(attributes: dict[str, str]) -> None:
    """An editor's element does nothing in a browser, whatever its attributes say; but no
    editor writes an event handler or a javascript: URL, so those are still refused."""
    for tag, value in attributes.items():
        _check_scripting(_split(tag)[1], value)


def _check_scripting(name: str, value: str) -> None:
    if name[:2].lower() == "on":
        raise _unsafe(f"has an event handler ({name[:40]})")
    bare = _bare(value)
    if "javascript:" in bare or "vbscript:" in bare:
        raise _unsafe(f"has a script URL in {name[:40]!r}: {value[:80]!r}")


def _attribute_problem(element: str, name: str, value: str) -> str | None:
    if name == "href":
        return _href_problem(element, value)
    if name == "attributeName" and value not in allowed.ANIMATABLE:
        return f"animates {value[:40]!r} (an animation may change only how things look)"
    if name in allowed.PRESENTATION or name in allowed.ANIMATION_VALUES or name == "style":
        if problem := css_problem(value):
            return f"{problem} in {name!r}"
        return None
    if name in allowed.ATTRIBUTES or name.startswith(allowed.ATTRIBUTE_PREFIXES):
        return None
    return f"has a {name[:40]!r} attribute"


def _href_problem(element: str, value: str) -> str | None:
    """References stay inside the document; an <image> may also be a raster data: URL."""
    bare = _bare(value)
    if bare.startswith("#"):
        return None
    if element in allowed.IMAGE_ELEMENTS and allowed.IMAGE_DATA.match(bare):
        return None
    return f"references {value.strip()[:80]!r}"


def _bare(value: str) -> str:
    """A URL as a browser reads it (no ASCII whitespace or control characters, which URL
    parsing drops or strips), lowercased for comparing schemes."""
    return re.sub(r"[\x00-\x20]", "", value).lower()


# --- CSS ------------------------------------------------------------------------------------

# Comments and strings, matched first so that nothing inside them is taken for a function
# (an unclosed one runs to the end, as it does for a CSS parser).
_CSS_SKIPPED = re.compile(r"/\*.*?(?:\*/|\Z)|\"[^\"\n]*(?:\"|$)|'[^'\n]*(?:'|$)", re.S | re.M)
_CSS_FUNCTION = re.compile(r"([-\w\u0080-\U0010ffff]+)\(")
_CSS_AT_RULE = re.compile(r"@([-\w\u0080-\U0010ffff]+)")
_CSS_URL = re.compile(r"url\(\s*(?:\x00(\d+)\x00|([^)]*))", re.I)
# @namespace names a namespace with a URL it never loads (`@namespace svg url(http://…svg)`).
_CSS_NAMESPACE = re.compile(r"@namespace\b[^;{}]*;", re.I)


def css_problem(css: str) -> str | None:
    """What in a style sheet, a style attribute or a presentation attribute's value could load
    something or run script; None when nothing. Only the functions and at-rules that load
    nothing are taken, and url() only to `#id` (or an inline raster image or font)."""
    if "\\" in css:
        # Escapes can spell any name (u\72l( is url(); no SVG editor writes them.
        return "has a CSS escape"
    strings: list[str] = []

    def hide(match: re.Match[str]) -> str:
        """A comment as the space it is; a string as \x00<its number>\x00, kept aside."""
        if match.group().startswith("/*"):
            return " "
        quote, body = match.group()[0], match.group()[1:]
        strings.append(body[:-1] if body.endswith(quote) else body)
        return f"\x00{len(strings) - 1}\x00"

    text = _CSS_NAMESPACE.sub(" ", _CSS_SKIPPED.sub(hide, css))
    for rule in _CSS_AT_RULE.findall(text):
        if rule.lower() not in allowed.CSS_AT_RULES:
            return f"has the CSS at-rule @{rule[:40]}"
    for function in _CSS_FUNCTION.findall(text):
        if function.lower() not in allowed.CSS_FUNCTIONS:
            return f"uses the CSS function {function[:40]}()"
    for hidden, bare in _CSS_URL.findall(text):
        target = strings[int(hidden)] if hidden else bare
        if not _css_target_is_inline(target):
            return f"loads {target.strip()[:80]!r}"
    return None


def _css_target_is_inline(target: str) -> bool:
    bare = _bare(target)
    return bare.startswith("#") or allowed.CSS_DATA.match(bare) is not None


# --- size -----------------------------------------------------------------------------------


def _svg_size(attributes: dict[str, str]) -> tuple[int, int]:
    width, height = _length(attributes.get("width")), _length(attributes.get("height"))
    view_box = (attributes.get("viewBox") or "").replace(",", " ").split()
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
    return _pixels(width, 300), _pixels(height, 150)


def _length(value: str | None) -> float | None:
    """An absolute length in CSS pixels (`120`, `120px`, `210mm`); None for what depends on
    where the image is shown (`%`, `em`) or is no length."""
    match = _LENGTH.match(value or "")
    if not match or match.group(2).lower() not in _UNITS:
        return None
    pixels = float(match.group(1)) * _UNITS[match.group(2).lower()]
    return pixels if 0 < pixels < 1e9 else None


def _pixels(length: float | None, default: int) -> int:
    return max(1, round(length)) if length is not None else default
