"""What an SVG image may hold (media/probe/svg.py checks it): the elements and attributes of
SVG 1.1 and 2 static and animated graphics that can neither script, navigate nor fetch, the
CSS that can do none of these either, and the editors' metadata namespaces, whose elements
and attributes no browser gives any behaviour.

Everything not named here is refused. A real SVG that is refused for an element, attribute,
CSS function or namespace that is as inert as these may have it added here; a thing that can
run script, follow a link or load a resource never can."""

from __future__ import annotations

import re

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Names are case-sensitive in XML: <clippath> is not <clipPath>, and is refused.
ELEMENTS = frozenset(
    {
        # structure
        "svg", "g", "defs", "desc", "title", "metadata", "symbol", "use", "switch", "view",
        "style", "a",
        # shapes and text
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
        "text", "tspan", "textPath", "tref", "image",
        # paint servers, clipping, masking, markers
        "linearGradient", "radialGradient", "stop", "pattern", "marker", "clipPath", "mask",
        "solidcolor", "hatch", "hatchpath", "meshgradient", "meshrow", "meshpatch",
        "meshGradient", "meshRow", "meshPatch",
        # filters
        "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite",
        "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap", "feDistantLight",
        "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
        "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset",
        "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
        # animation (what it may animate: ANIMATABLE)
        "animate", "animateMotion", "animateTransform", "animateColor", "set", "mpath",
        # SVG fonts (no <font-face-uri>: it loads a font) and Inkscape's flowed text
        "font", "font-face", "font-face-src", "font-face-name", "glyph", "missing-glyph",
        "hkern", "vkern",
        "flowRoot", "flowRegion", "flowPara", "flowSpan", "flowDiv", "flowRegionBreak",
    }
)  # fmt: skip

# Elements whose href may also be a raster image in a data: URL (it loads nothing, and a
# raster decoder runs no script); every other href must point inside the document (#id).
IMAGE_ELEMENTS = frozenset({"image", "feImage"})
IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp)[;,]")

# Presentation attributes: parsed as CSS, so their values get the CSS check.
PRESENTATION = frozenset(
    {
        "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color",
        "color-interpolation", "color-interpolation-filters", "color-profile",
        "color-rendering", "cursor", "direction", "display", "dominant-baseline",
        "enable-background", "fill", "fill-opacity", "fill-rule", "filter", "flood-color",
        "flood-opacity", "font", "font-family", "font-size", "font-size-adjust",
        "font-stretch", "font-style", "font-variant", "font-weight",
        "glyph-orientation-horizontal", "glyph-orientation-vertical", "image-rendering",
        "isolation", "kerning", "letter-spacing", "lighting-color", "marker", "marker-end",
        "marker-mid", "marker-start", "mask", "mask-type", "mix-blend-mode", "opacity",
        "overflow", "paint-order", "pointer-events", "shape-rendering", "solid-color",
        "solid-opacity", "stop-color", "stop-opacity", "stroke", "stroke-dasharray",
        "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
        "stroke-opacity", "stroke-width", "text-anchor", "text-decoration", "text-rendering",
        "transform-box", "transform-origin", "unicode-bidi", "vector-effect", "visibility",
        "white-space", "word-spacing", "writing-mode",
    }
)  # fmt: skip

GEOMETRY = frozenset(
    {
        "x", "y", "width", "height", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr",
        "x1", "y1", "x2", "y2", "dx", "dy", "d", "points", "pathLength", "rotate",
        "transform", "gradientTransform", "patternTransform", "viewBox", "preserveAspectRatio",
        "offset", "startOffset", "textLength", "markerWidth", "markerHeight", "refX", "refY",
        "orient",
        # filter primitives
        "stdDeviation", "values", "tableValues", "slope", "intercept", "amplitude",
        "exponent", "k1", "k2", "k3", "k4", "kernelMatrix", "divisor", "bias", "targetX",
        "targetY", "surfaceScale", "diffuseConstant", "specularConstant",
        "specularExponent", "limitingConeAngle", "azimuth", "elevation", "pointsAtX",
        "pointsAtY", "pointsAtZ", "z", "scale", "baseFrequency", "numOctaves", "seed",
        "radius",
    }
)  # fmt: skip

# What an animation may change: how things look and where they are, never a link, a style
# sheet, an event handler or the animation itself.
ANIMATABLE = PRESENTATION | GEOMETRY | {"class"}
# An animation's values, which become the animated attribute's: they get its checks.
ANIMATION_VALUES = frozenset({"from", "to", "by", "values"})

_OTHER_ATTRIBUTES = frozenset(
    {
        "id", "class", "style", "lang", "tabindex", "role", "focusable", "version",
        "baseProfile", "zoomAndPan", "contentStyleType", "externalResourcesRequired",
        "requiredFeatures", "requiredExtensions", "systemLanguage", "href", "type", "media",
        "title",
        "lengthAdjust", "method", "spacing", "side", "path", "gradientUnits", "spreadMethod",
        "patternUnits", "patternContentUnits", "clipPathUnits", "maskUnits",
        "maskContentUnits", "markerUnits", "viewTarget", "filterUnits", "primitiveUnits",
        "filterRes", "in", "in2", "result", "mode", "operator", "order", "edgeMode",
        "kernelUnitLength", "preserveAlpha", "xChannelSelector", "yChannelSelector",
        "stitchTiles",
        # animation timing and targets (attributeName: ANIMATABLE)
        "attributeName", "attributeType", "begin", "dur", "end", "min", "max", "restart",
        "repeatCount", "repeatDur", "calcMode", "keyTimes", "keySplines", "keyPoints",
        "additive", "accumulate", "origin",
        # SVG fonts
        "horiz-adv-x", "horiz-origin-x", "horiz-origin-y", "vert-adv-y", "vert-origin-x",
        "vert-origin-y", "unicode", "glyph-name", "orientation", "arabic-form", "u1", "u2",
        "g1", "g2", "k", "units-per-em", "ascent", "descent", "unicode-range", "panose-1",
        "stemv", "stemh", "cap-height", "x-height", "accent-height", "widths", "bbox",
        "ideographic", "alphabetic", "mathematical", "hanging", "v-ideographic",
        "v-alphabetic", "v-mathematical", "v-hanging", "underline-position",
        "underline-thickness", "strikethrough-position", "strikethrough-thickness",
        "overline-position", "overline-thickness", "name",
    }
)  # fmt: skip

ATTRIBUTES = PRESENTATION | GEOMETRY | ANIMATION_VALUES | _OTHER_ATTRIBUTES
# No <a target> (it navigates the window that holds the image), no ping, download or rel.
# data-* and aria-* carry data for scripts and assistive technology, which is all they do.
ATTRIBUTE_PREFIXES = ("data-", "aria-")

# xlink:href is checked like href; the rest describe a link, and with a link to #id only,
# say nothing that matters (no xlink:show or xlink:actuate: they open windows).
XLINK_ATTRIBUTES = frozenset({"href", "title", "type", "role", "arcrole"})
# No xml:base: it would make every #id reference point at another document.
XML_ATTRIBUTES = frozenset({"space", "lang", "id"})

# Editors' namespaces (Inkscape, Illustrator, Sketch, Affinity, Visio, CorelDRAW, Krita,
# Boxy SVG, Vectornator, LibreOffice) and the metadata they embed (RDF, Dublin Core, Creative
# Commons, XMP): no browser gives their elements or attributes any behaviour. XHTML and MathML
# are not here: their elements script and link.
METADATA_NAMESPACES = frozenset(
    {
        "http://www.inkscape.org/namespaces/inkscape",
        "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://inkscape.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://www.w3.org/2000/01/rdf-schema#",
        "http://purl.org/dc/elements/1.1/",
        "http://purl.org/dc/terms/",
        "http://creativecommons.org/ns#",
        "http://web.resource.org/cc/",
        "adobe:ns:meta/",
        "http://www.bohemiancoding.com/sketch/ns",
        "http://www.serif.com/",
        "http://schemas.microsoft.com/visio/2003/SVGExtensions/",
        "http://www.corel.com/coreldraw/odm/2003",
        "http://krita.org/namespaces/svg/krita",
        "http://www.openswatchbook.org/uri/2009/osb",
        "https://boxy-svg.com",
        "http://vectornator.io",
        "http://xml.openoffice.org/svg/export",
    }
)
# Illustrator's own (i:, x:, graph:, sfw:, ...) and XMP's, all under one prefix.
METADATA_NAMESPACE_PREFIX = "http://ns.adobe.com/"

# Processing instructions a browser ignores: Adobe's XMP packet wrapper. (xml-stylesheet is
# the one a browser obeys: it loads and applies CSS or XSLT.)
PROCESSING_INSTRUCTIONS = frozenset({"xpacket"})

# The document types an editor writes for SVG 1.0/1.1 (Illustrator, old Inkscape): naming a
# DTD no browser loads. No internal subset, so no entity or attribute default is declared.
DOCTYPE_PUBLIC = re.compile(r"-//W3C//DTD SVG [\w .]+//EN")
DOCTYPE_SYSTEM = re.compile(r"https?://www\.w3\.org/(Graphics/SVG|TR)/[\w./-]+\.dtd")

# Encodings every browser decodes as expat does (the ASCII bytes of the markup the same);
# another label could be read by a browser as different markup than the check read.
ENCODINGS = frozenset(
    {"utf-8", "utf8", "utf-16", "us-ascii", "ascii", "iso-8859-1", "latin1", "windows-1252"}
)

# CSS functions that compute a value from their arguments and load nothing; url() is checked
# apart. Not here: image-set() and src() (they take a string as a URL), image(), element(),
# cross-fade(), attr(), expression(), and whatever comes next.
CSS_FUNCTIONS = frozenset(
    {
        "url", "rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "oklab", "oklch", "color",
        "color-mix", "light-dark", "device-cmyk", "icc-color",
        "calc", "min", "max", "clamp", "abs", "sign", "round", "mod", "rem", "sin", "cos",
        "tan", "asin", "acos", "atan", "atan2", "pow", "sqrt", "hypot", "log", "exp", "var",
        "env",
        "translate", "translatex", "translatey", "translatez", "translate3d", "scale",
        "scalex", "scaley", "scalez", "scale3d", "rotate", "rotatex", "rotatey", "rotatez",
        "rotate3d", "skew", "skewx", "skewy", "matrix", "matrix3d", "perspective",
        "blur", "brightness", "contrast", "drop-shadow", "grayscale", "hue-rotate", "invert",
        "opacity", "saturate", "sepia",
        "cubic-bezier", "steps", "linear",
        "linear-gradient", "radial-gradient", "conic-gradient", "repeating-linear-gradient",
        "repeating-radial-gradient", "repeating-conic-gradient",
        "inset", "circle", "ellipse", "polygon", "path", "rect", "xywh",
        "local", "format", "tech", "counter", "counters",
        # selectors and conditions
        "not", "is", "where", "has", "nth-child", "nth-last-child", "nth-of-type",
        "nth-last-of-type", "lang", "dir", "supports", "selector", "layer",
    }
)  # fmt: skip
CSS_AT_RULES = frozenset(
    {
        "media", "keyframes", "-webkit-keyframes", "font-face", "supports", "charset",
        "namespace", "page", "layer", "container", "property", "font-feature-values",
        "counter-style", "scope", "starting-style",
    }
)  # fmt: skip
# A url() in CSS may also hold a font or a raster image inline (it loads nothing).
CSS_DATA = re.compile(
    r"data:(image/(png|jpeg|gif|webp)|font/[\w.+-]+|application/(x-)?font-[\w.+-]+)[;,]"
)
