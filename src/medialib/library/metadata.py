"""Metadata validation: one compiled schema per media type, built once at start.

Each `li-*` property type becomes a small check function. Problems come back as
`MetadataIssue`s (property, keyword, params, and where inside a structured value) so the API can
phrase them the way each version expects ("should be string" in v1, "must be string" from
2025-03 on).

The property types are the original API's metadata plugins that may stand on a media type
(`support.media` in its docs), with the shapes its docs give their stored values, and medialib's
own `li-string`, `li-url` and `li-numeric`. A property's `config` and `ui` take the keys the
original's docs name; each `config` key is checked against the types it applies to.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from medialib.library.media_kinds import MediaKind
from medialib.library.storable import INT64

Phrasing = Literal["should", "must"]


@dataclass(frozen=True, slots=True)
class MetadataIssue:
    """One broken rule; `property` is the metadata property handle ('' for the whole object),
    `at` a JSON pointer inside a structured value ('/reference/id'), '' for the value itself."""

    property: str
    keyword: str
    params: tuple[Any, ...] = ()
    locale: str | None = None
    at: str = ""

    def message(self, phrasing: Phrasing = "must") -> str:
        phrase = _PHRASES[self.keyword][phrasing == "should"].format(*self.params)
        if self.keyword in ("required", "additionalProperties", "object"):
            return f"The metadata {phrase}"
        return f"The value of '/{self.property}{self.at}' {phrase}"

    def as_dict(self, phrasing: Phrasing = "must") -> dict[str, Any]:
        item: dict[str, Any] = {
            "metadataProperty": self.property,
            "message": self.message(phrasing),
        }
        if self.locale is not None:
            item["locale"] = self.locale
        return item


# keyword -> (current phrase, v1 phrase); the wording follows the JSON schema validator (ajv)
# the original API reports with, in its newer and its older release.
_PHRASES: dict[str, tuple[str, str]] = {
    "type": ("must be {0}", "should be {0}"),
    "maxLength": (
        "must NOT have more than {0} characters",
        "should NOT be longer than {0} characters",
    ),
    "minLength": (
        "must NOT have fewer than {0} characters",
        "should NOT be shorter than {0} characters",
    ),
    "maximum": ("must be <= {0}", "should be <= {0}"),
    "minimum": ("must be >= {0}", "should be >= {0}"),
    "enum": (
        "must be equal to one of the allowed values",
        "should be equal to one of the allowed values",
    ),
    "const": ("must be equal to constant '{0}'", "should be equal to constant '{0}'"),
    "format": ('must match format "{0}"', 'should match format "{0}"'),
    "pattern": ('must match pattern "{0}"', 'should match pattern "{0}"'),
    "maxItems": ("must NOT have more than {0} items", "should NOT have more than {0} items"),
    "minItems": ("must NOT have fewer than {0} items", "should NOT have fewer than {0} items"),
    "required": ("must have required property '{0}'", "should have required property '{0}'"),
    "additionalProperties": (
        "must NOT have additional property '{0}'",
        "should NOT have additional property '{0}'",
    ),
    # The same two rules inside a structured value (the message names the value, not the
    # metadata).
    "requiredMember": (
        "must have required property '{0}'",
        "should have required property '{0}'",
    ),
    "additionalMember": (
        "must NOT have additional property '{0}'",
        "should NOT have additional property '{0}'",
    ),
    "object": ("must be object", "should be object"),
    "translatable": ("is not translatable", "is not translatable"),
    "newline": ("must NOT contain line breaks", "should NOT contain line breaks"),
    "uniqueName": (
        "must NOT name the crop '{0}' twice",
        "should NOT name the crop '{0}' twice",
    ),
    # Not ajv's: a crop or focal point beyond its image's width and height.
    "outsideImage": (
        "must lie within the image ({0}x{1} pixels)",
        "should lie within the image ({0}x{1} pixels)",
    ),
    # Not ajv's: what no database of medialib's stores as it came (see library/storable.py).
    "nul": (
        "must NOT contain NUL characters (\\u0000)",
        "should NOT contain NUL characters (\\u0000)",
    ),
    "int64": ("must be within 64 bits", "should be within 64 bits"),
    # Not ajv's: a reference to an entry the project does not have (library/references.py).
    "mediaReference": (
        "must name a {0} entry of this project",
        "should name a {0} entry of this project",
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """What a check found: a keyword of `_PHRASES`, its parameters, and where in the value."""

    keyword: str
    params: tuple[Any, ...] = ()
    at: str = ""


def issues_text(issues: Iterable[MetadataIssue]) -> str:
    """Broken rules as one line, as an item's `reason` says them."""
    return "; ".join(issue.message() for issue in issues)


Check = Callable[[Any], "Problem | None"]
# A check of one member of a structured value, told where it stands (a JSON pointer).
Member = Callable[[Any, str], "Problem | None"]


# The original's metadata plugins that may stand on a media type (28), and medialib's own.
PropertyType = Literal[
    "li-boolean",
    "li-color",
    "li-date",
    "li-datetime",
    "li-datetime-validity",
    "li-document-reference",
    "li-document-references",
    "li-enum",
    "li-external-id",
    "li-google-vision",
    "li-image",
    "li-integer",
    "li-invalid",
    "li-license-profile",
    "li-media-handle",
    "li-media-language",
    "li-metadata-translations",
    "li-named-crops",
    "li-numeric-list",
    "li-poster-image",
    "li-reference",
    "li-reference-list",
    "li-string-list",
    "li-system-datetime",
    "li-system-integer",
    "li-text",
    "li-transcoding-state",
    "li-video-reference",
    # medialib's own
    "li-string",
    "li-url",
    "li-numeric",
]
PROPERTY_TYPES: tuple[str, ...] = get_args(PropertyType)
MEDIALIB_TYPES = frozenset({"li-string", "li-url", "li-numeric"})

# The original's plugins its docs mark as not available on media types: named in the refusal.
DOCUMENT_ONLY_TYPES = frozenset(
    {
        "li-bundled-documents",
        "li-buy-in",
        "li-category",
        "li-dependencies",
        "li-desknet-global",
        "li-desknet-integration",
        "li-desknet-schedule",
        "li-distribution-dates",
        "li-distribution-planning",
        "li-distribution-schedule",
        "li-document-search",
        "li-document-soft-lock",
        "li-estimated-time-of-completion",
        "li-exposure-boost",
        "li-imatrics-nlp-tags",
        "li-issue-management",
        "li-kordiam-global",
        "li-kordiam-integration",
        "li-kordiam-schedule",
        "li-language",
        "li-list-reference",
        "li-manual-document-status",
        "li-moderated-collab",
        "li-print",
        "li-publish-date",
        "li-push-messages",
        "li-push-notifications",
        "li-retresco",
        "li-routing",
        "li-system-boolean",
        "li-system-date",
        "li-system-enum",
        "li-system-priority",
        "li-system-target-length",
        "li-system-text",
        "li-target-length",
        "li-task-v2",
        "li-team",
        "li-teaser",
        "li-ticker-host-reference",
        "li-tree",
        "li-unique-id",
        "li-user-needs",
    }
)

# Types whose values are objects (the web view and the bulk client read them as JSON).
STRUCTURED_TYPES = frozenset(
    {
        "li-datetime-validity",
        "li-document-reference",
        "li-document-references",
        "li-google-vision",
        "li-image",
        "li-license-profile",
        "li-media-language",
        "li-metadata-translations",
        "li-named-crops",
        "li-poster-image",
        "li-reference",
        "li-reference-list",
        "li-transcoding-state",
        "li-video-reference",
    }
)
INTEGER_TYPES = frozenset({"li-integer", "li-system-integer"})
# Types whose values decide whether the entry is served (library/validity.py): the entry's
# own, never a language's.
ENTRY_STATE_TYPES = frozenset({"li-invalid", "li-datetime-validity"})

# Where a value of these types names a media library entry by its id (the keys leading to it),
# and the kind of entry it must name; library/references.py checks and indexes them. Document
# references (li-reference, li-document-reference, …) and li-media-handle (a label) name none.
MEDIA_REFERENCES: dict[str, tuple[tuple[tuple[str, ...], MediaKind], ...]] = {
    "li-image": ((("mediaId",), "mediaImage"),),
    "li-poster-image": ((("mediaId",), "mediaImage"),),
    "li-video-reference": (
        (("reference", "id"), "mediaVideo"),
        (("reference", "posterImageId"), "mediaImage"),
    ),
}


class EnumOption(BaseModel):
    """medialib's own way of listing an enum's values (`options`)."""

    model_config = ConfigDict(extra="forbid")

    value: str | int | float
    label: str | None = None


class LabelValuePair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    value: StrictStr | StrictInt
    isDefault: bool = False  # the editor's first value of a new document: no effect here


class DataProvider(BaseModel):
    """The original's list of values: `{type: labelValuePair, items: [...]}`, or a data source
    registered in its server (`{dataSource: name}`), which medialib has none of."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["labelValuePair"] | None = None
    items: list[LabelValuePair] | None = None
    dataSource: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_kind(self) -> DataProvider:
        if self.dataSource is not None:
            if self.type is not None or self.items is not None:
                raise ValueError("a dataProvider has a dataSource or items, not both")
        elif self.type is None or not self.items:
            raise ValueError(
                "a dataProvider needs type: labelValuePair and a list of items, or a dataSource"
            )
        return self


class NamedCropConfig(BaseModel):
    """One of `designSettings.namedCrops` an image keeps (`li-named-crops`, `li-image`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    isOptional: bool = False


Label = str | dict[str, str]  # a text, or one per locale ({en: Page, de: Seite})


class PropertyConfig(BaseModel):
    """The `config` of one metadata property; unknown keys are refused to catch typos, and
    each key is checked against the types it applies to (`MetadataProperty`)."""

    model_config = ConfigDict(extra="forbid")

    # every type
    required: bool = False
    # What the web view's form says of a required field left empty (the API keeps its words).
    requiredErrorMessage: str | None = None
    hideFromForm: bool = False  # not in the web view's form (which keeps its value as it is)
    # Marked on any property of a media type (of a type the original indexes): `q` searches
    # only the marked ones, and the file name (library/browse.py).
    index: bool = False
    # False: the property belongs to the entry, not to a language (translations may not set it).
    # (medialib's default is True; the original's is False.)
    translatable: bool = True
    # texts
    maxLength: int | None = Field(default=None, ge=1)
    minLength: int | None = Field(default=None, ge=0)
    # A hint beside the web view's field, not a rule.
    recommendedMinLength: int | None = Field(default=None, ge=0)
    recommendedMaxLength: int | None = Field(default=None, ge=0)
    # False: a value with a line break is refused (and the web view's field is one line); True:
    # an li-string's field takes lines too.
    allowNewlines: bool | None = None
    useAsTitle: bool | None = None  # removed from the original in release-2023-07: no effect
    # numbers (`min`/`max` are medialib's, `minValue`/`maxValue` the original's); the number
    # of references of li-document-references and li-reference-list
    min: int | float | None = None
    max: int | float | None = None
    minValue: int | float | None = None
    maxValue: int | float | None = None
    # lists
    maxItems: int | None = Field(default=None, ge=0)
    # values to choose from: medialib's `options`, the original's `dataProvider`
    options: list[EnumOption] | None = None
    dataProvider: DataProvider | None = None
    # references (editor filters: no effect)
    documentType: Literal["article", "page", "data-record"] | None = None
    contentType: str | list[str] | None = None
    published: bool | None = None
    prefillAuthor: bool | None = None
    referenceType: Literal["document", "documents"] | None = None
    # crops an image keeps
    namedCrops: list[NamedCropConfig] | None = None

    @property
    def lowest(self) -> float | None:
        return self.minValue if self.minValue is not None else self.min

    @property
    def highest(self) -> float | None:
        return self.maxValue if self.maxValue is not None else self.max

    @property
    def choices(self) -> list[EnumOption]:
        """The values to choose from, whichever way the config lists them."""
        if self.options:
            return list(self.options)
        items = self.dataProvider.items if self.dataProvider else None
        return [EnumOption(value=i.value, label=i.label) for i in items or ()]

    @property
    def listed(self) -> frozenset[tuple[type, Any]] | None:
        """The allowed values as (type, value), or None when any value of the type will do
        (no list, or a data source medialib cannot ask)."""
        if self.options:
            return frozenset((type(o.value), o.value) for o in self.options)
        if self.dataProvider is not None and self.dataProvider.items:
            return frozenset((type(i.value), i.value) for i in self.dataProvider.items)
        return None


class UiConfig(BaseModel):
    """`ui.config`: how the original's editor shows the property. The web view's form takes
    `placeholder`, `rows` and `readOnly` (shown, not changed there; the API still sets it);
    the others concern only the original's editor."""

    model_config = ConfigDict(extra="forbid")

    readOnly: bool | None = None
    placeholder: str | None = None
    rows: int | None = Field(default=None, ge=1)
    useInputTypeColor: bool | None = None
    style: Literal["default", "teaser", "minimal"] | None = None
    useDashboard: str | None = None
    baseFilters: list[JsonValue] | None = None
    displayFilters: list[JsonValue] | None = None
    cacheSearch: bool | None = None
    sortable: bool | None = None
    uploadMediaType: str | None = None
    posterImageUploadMediaType: str | None = None
    posterImageUseDashboard: str | None = None


class PropertyUi(BaseModel):
    """`ui`: the original editor's component, label and settings; `label` names the property
    in medialib's web view too."""

    model_config = ConfigDict(extra="forbid")

    component: str | None = None
    label: Label | None = None
    config: UiConfig | None = None


_COMMON_KEYS = frozenset(
    {"required", "requiredErrorMessage", "hideFromForm", "index", "translatable"}
)
_TEXT_KEYS = frozenset(
    {"minLength", "maxLength", "recommendedMinLength", "recommendedMaxLength", "allowNewlines"}
)
_NUMBER_KEYS = frozenset({"min", "max", "minValue", "maxValue"})
_REFERENCE_KEYS = frozenset({"documentType", "contentType", "published", "prefillAuthor"})
# The config keys each type takes beyond the common ones.
TYPE_KEYS: dict[str, frozenset[str]] = {
    "li-text": _TEXT_KEYS | {"useAsTitle", "dataProvider"},
    "li-string": _TEXT_KEYS,
    "li-url": frozenset({"minLength", "maxLength"}),
    "li-integer": _NUMBER_KEYS | {"dataProvider"},
    "li-system-integer": _NUMBER_KEYS | {"dataProvider"},
    "li-numeric": _NUMBER_KEYS,
    "li-enum": frozenset({"options", "dataProvider"}),
    "li-string-list": frozenset({"maxItems", "dataProvider"}),
    "li-numeric-list": frozenset({"maxItems"}),
    "li-document-reference": _REFERENCE_KEYS,
    "li-reference": _REFERENCE_KEYS | {"referenceType"},
    "li-document-references": _REFERENCE_KEYS | {"min", "max"},
    "li-reference-list": _REFERENCE_KEYS | {"referenceType", "min", "max"},
    "li-image": frozenset({"namedCrops"}),
    "li-named-crops": frozenset({"namedCrops"}),
}
_COUNTED_TYPES = frozenset({"li-document-references", "li-reference-list"})


class MetadataProperty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=200)  # the original's, kept
    handle: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=100)
    type: PropertyType
    config: PropertyConfig = Field(default_factory=PropertyConfig)
    ui: PropertyUi | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in PROPERTY_TYPES:
            if value in DOCUMENT_ONLY_TYPES:
                raise ValueError(
                    f"{value} is a metadata plugin for documents only: the original API does "
                    "not allow it on media types either"
                )
            shown = value if len(value) <= 60 else value[:60] + "…"
            raise ValueError(
                f"unknown metadata type {shown!r}: medialib takes {', '.join(PROPERTY_TYPES)}"
            )
        return value

    @model_validator(mode="after")
    def _config_fits_the_type(self) -> MetadataProperty:
        config, kind = self.config, self.type
        takes = _COMMON_KEYS | TYPE_KEYS.get(kind, frozenset())
        for key in sorted(config.model_fields_set - takes):
            where = sorted(t for t, keys in TYPE_KEYS.items() if key in keys)
            raise ValueError(
                f"config.{key} does not apply to {kind} (it does to {', '.join(where)})"
            )
        if config.min is not None and config.minValue is not None:
            raise ValueError("config.min and config.minValue say the same: give one")
        if config.max is not None and config.maxValue is not None:
            raise ValueError("config.max and config.maxValue say the same: give one")
        low, high = config.lowest, config.highest
        if low is not None and high is not None and low > high:
            raise ValueError("the lowest value of config is above its highest")
        if kind in _COUNTED_TYPES:
            for bound in (config.min, config.max):
                if bound is not None and (bound < 0 or not float(bound).is_integer()):
                    raise ValueError(f"config.min and config.max of {kind} count references")
        if kind == "li-enum":
            if not config.options and config.dataProvider is None:
                raise ValueError(
                    "li-enum needs config.options, a list of {value, label}, or "
                    "config.dataProvider ({type: labelValuePair, items: [{label, value}]})"
                )
            if config.options and config.dataProvider is not None:
                raise ValueError("li-enum takes config.options or config.dataProvider, not both")
        items = config.dataProvider.items if config.dataProvider else None
        wanted = int if kind in INTEGER_TYPES else str
        if items and not all(isinstance(i.value, wanted) for i in items):
            raise ValueError(
                f"config.dataProvider.items of {kind} must have {wanted.__name__} values"
            )
        expected_ref = {"li-reference": "document", "li-reference-list": "documents"}.get(kind)
        if config.referenceType is not None and config.referenceType != expected_ref:
            raise ValueError(f"config.referenceType of {kind} must be {expected_ref!r}")
        crops = [c.name for c in config.namedCrops or ()]
        if len(crops) != len(set(crops)):
            raise ValueError("config.namedCrops names a crop twice")
        return self

    @model_validator(mode="after")
    def _entry_state_is_not_translated(self) -> MetadataProperty:
        said = "translatable" in self.config.model_fields_set and self.config.translatable
        if self.type in ENTRY_STATE_TYPES and said:
            raise ValueError(
                f"{self.type} decides whether the entry is served: it cannot be translatable"
            )
        return self

    @property
    def label(self) -> str:
        """What the property is called where people read it: `ui.label` (its English one of
        several), else its handle."""
        label = self.ui.label if self.ui else None
        if isinstance(label, dict):
            label = label.get("en") or next(iter(label.values()), None)
        return label or self.handle


def _is_int(value: Any) -> bool:
    # One beyond 64 bits is an integer all the same, which `_unstorable` refuses by name.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_int(value)


def _whole(value: Any) -> Any:
    """An integer as many JSON encoders send it (`5.0`) as the integer; anything else as it
    is."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _unstorable(value: Any, at: str = "") -> Problem | None:
    """A text with NUL or an integer beyond 64 bits: values of the right type that no database
    of medialib's keeps as they came (the file metadata of an import may hold either)."""
    if isinstance(value, str) and "\x00" in value:
        return Problem("nul", (), at)
    if _is_int(value) and not INT64[0] <= value <= INT64[1]:
        return Problem("int64", (), at)
    return None


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    # A datetime must say its offset: a bare local time means nothing to a library
    # read from many time zones.
    if len(value) < 20 or len(value) > 64 or "T" not in value.upper():
        return False
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


_URL_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def _is_url(value: str) -> bool:
    """An http(s) URL with a host, and no whitespace or control character anywhere."""
    if not value[:8].lower().startswith(("http://", "https://")) or _URL_UNSAFE.search(value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises for a port that is not one
    except ValueError:  # an unclosed IPv6 bracket, a port out of range
        return False
    return bool(parts.hostname)


COLOR = r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
_COLOR = re.compile(COLOR)
LOCALE = r"^[a-z][a-zA-Z0-9\-]+$"
_LOCALE = re.compile(LOCALE)
_LINE_BREAK = re.compile(r"[\n\r\u2028\u2029]")


def _string_check(config: PropertyConfig, fmt: str | None = None) -> Check:
    max_length, min_length = config.maxLength, config.minLength
    no_newlines = config.allowNewlines is False

    def check(value: Any) -> Problem | None:
        if not isinstance(value, str):
            return Problem("type", ("string",))
        if (unstorable := _unstorable(value)) is not None:
            return unstorable
        if max_length is not None and len(value) > max_length:
            return Problem("maxLength", (max_length,))
        if min_length is not None and len(value) < min_length:
            return Problem("minLength", (min_length,))
        if no_newlines and _LINE_BREAK.search(value):
            return Problem("newline")
        if fmt == "date" and not _is_date(value):
            return Problem("format", ("date",))
        if fmt == "date-time" and not _is_datetime(value):
            return Problem("format", ("date-time",))
        if fmt == "uri" and not _is_url(value):
            return Problem("format", ("uri",))
        if fmt == "color" and not _COLOR.match(value):
            return Problem("pattern", (COLOR,))
        return None

    return check


def _number_check(config: PropertyConfig, *, integer: bool) -> Check:
    type_name = "integer" if integer else "number"
    low, high = config.lowest, config.highest

    def check(value: Any) -> Problem | None:
        if integer:
            value = _whole(value)
            if not _is_int(value):
                return Problem("type", (type_name,))
        elif not _is_number(value):
            return Problem("type", (type_name,))
        if (unstorable := _unstorable(value)) is not None:
            return unstorable
        if low is not None and value < low:
            return Problem("minimum", (_plain(low),))
        if high is not None and value > high:
            return Problem("maximum", (_plain(high),))
        return None

    return check


def _plain(number: float) -> float | int:
    return int(number) if float(number).is_integer() else number


def _boolean_check(config: PropertyConfig) -> Check:
    def check(value: Any) -> Problem | None:
        return None if isinstance(value, bool) else Problem("type", ("boolean",))

    return check


def _enum_check(config: PropertyConfig) -> Check:
    allowed = config.listed

    def check(value: Any) -> Problem | None:
        # Options are strings and numbers: a list or object (unhashable) is simply not one.
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return Problem("enum")
        if allowed is None:  # a data source: any text
            return _unstorable(value) if isinstance(value, str) else Problem("type", ("string",))
        return None if (type(value), value) in allowed else Problem("enum")

    return check


def _list_check(config: PropertyConfig, *, item_type: str) -> Check:
    accepts: Callable[[Any], bool] = (
        (lambda item: isinstance(item, str)) if item_type == "string" else _is_number
    )
    max_items = config.maxItems
    allowed = config.listed if item_type == "string" else None

    def check(value: Any) -> Problem | None:
        if not isinstance(value, list) or not all(accepts(item) for item in value):
            return Problem("type", (f"array of {item_type}s",))
        for i, item in enumerate(value):
            if (unstorable := _unstorable(item)) is not None:
                return unstorable
            if allowed is not None and (str, item) not in allowed:
                return Problem("enum", (), f"/{i}")
        if max_items is not None and len(value) > max_items:
            return Problem("maxItems", (max_items,))
        return None

    return check


# Structured values: each member checked by a small function told where it stands.


def _pointer(key: str) -> str:
    """A member's name in a JSON pointer (escaped, and cut short if it is long)."""
    if len(key) > 60:
        key = key[:60] + "…"
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _text(value: Any, at: str) -> Problem | None:
    if not isinstance(value, str):
        return Problem("type", ("string",), at)
    return _unstorable(value, at)


def _datetime(value: Any, at: str) -> Problem | None:
    if (problem := _text(value, at)) is not None:
        return problem
    return None if _is_datetime(value) else Problem("format", ("date-time",), at)


def _locale(value: Any, at: str) -> Problem | None:
    if (problem := _text(value, at)) is not None:
        return problem
    if len(value) > 35 or not _LOCALE.match(value):
        return Problem("pattern", (LOCALE,), at)
    return None


def _boolean(value: Any, at: str) -> Problem | None:
    return None if isinstance(value, bool) else Problem("type", ("boolean",), at)


def _integer_from(low: int) -> Member:
    """A whole number of at least `low` (pixels: 0 or 1 up), within 64 bits; `5.0` is `5`, as
    the original (JavaScript) reads it (`_STORED_AS` stores it so)."""

    def check(value: Any, at: str) -> Problem | None:
        value = _whole(value)
        if not _is_int(value):
            return Problem("type", ("integer",), at)
        if value < low:
            return Problem("minimum", (low,), at)
        return _unstorable(value, at)

    return check


def _number_between(low: float, high: float) -> Member:
    def check(value: Any, at: str) -> Problem | None:
        if not _is_number(value):
            return Problem("type", ("number",), at)
        if value < low:
            return Problem("minimum", (_plain(low),), at)
        if value > high:
            return Problem("maximum", (_plain(high),), at)
        return _unstorable(value, at)

    return check


def _constant(expected: str) -> Member:
    def check(value: Any, at: str) -> Problem | None:
        return None if value == expected else Problem("const", (expected,), at)

    return check


def _one_of(*allowed: str) -> Member:
    def check(value: Any, at: str) -> Problem | None:
        return None if isinstance(value, str) and value in allowed else Problem("enum", (), at)

    return check


def _array(item: Member, *, min_items: int | None = None, max_items: int | None = None) -> Member:
    def check(value: Any, at: str) -> Problem | None:
        if not isinstance(value, list):
            return Problem("type", ("array",), at)
        if min_items is not None and len(value) < min_items:
            return Problem("minItems", (min_items,), at)
        if max_items is not None and len(value) > max_items:
            return Problem("maxItems", (max_items,), at)
        for i, element in enumerate(value):
            if (problem := item(element, f"{at}/{i}")) is not None:
                return problem
        return None

    return check


def _object(
    members: Mapping[str, Member], *, required: tuple[str, ...] = (), open_: bool = False
) -> Member:
    """An object with these members (`required` among them); `open_` lets others through
    unchecked (what an external system adds)."""

    def check(value: Any, at: str) -> Problem | None:
        if not isinstance(value, dict):
            return Problem("type", ("object",), at)
        for key in required:
            if key not in value:
                return Problem("requiredMember", (key,), at)
        for key, member in value.items():
            checker = members.get(key)
            if checker is None:
                if open_:
                    continue
                shown = key if len(key) <= 60 else key[:60] + "…"
                return Problem("additionalMember", (shown,), at)
            if (problem := checker(member, at + _pointer(key))) is not None:
                return problem
        return None

    return check


def _whole_value(member: Member) -> Check:
    return lambda value: member(value, "")


_PIXEL = _integer_from(0)
_SIDE = _integer_from(1)
_FOCAL_POINT = _object({"x": _PIXEL, "y": _PIXEL}, required=("x", "y"))
_CROP_MEMBERS: dict[str, Member] = {
    "name": _text,
    "x": _PIXEL,
    "y": _PIXEL,
    "width": _SIDE,
    "height": _SIDE,
    "isAutomatic": _boolean,
}
_CROP = _object(_CROP_MEMBERS, required=("x", "y", "width", "height"))
_NAMED_CROP = _object(_CROP_MEMBERS, required=("name", "x", "y", "width", "height"))
_IMAGE_MEMBERS: dict[str, Member] = {
    "originalUrl": _text,
    "url": _text,
    "mediaId": _text,
    "width": _PIXEL,
    "height": _PIXEL,
    "mimeType": _text,
    "imageService": _text,
    "crops": _array(_CROP),
}
_DOCUMENT_ID = _object({"id": _text}, required=("id",))
_LOCALE_LABEL = _object({"locale": _locale, "label": _text}, required=("locale",))
_TRANSCODING_STATES = ("requested", "acknowledged", "inProgress", "done", "error")
_TRANSCODING_STATE = _object(
    {
        "commands": _array(
            _object(
                {
                    "assetKey": _text,
                    "commandId": _text,
                    "createdAt": _text,
                    "state": _one_of(*_TRANSCODING_STATES),
                    "errorMessage": _text,
                    "progress": _number_between(0, 100),
                },
                required=("assetKey", "commandId", "createdAt", "state"),
            )
        ),
        # an entry per transcoded asset, with what the transcoding service adds to it
        "transcodings": _array(_object({"assetKey": _text}, required=("assetKey",), open_=True)),
    }
)


def _reference_check(config: PropertyConfig, ref: str) -> Check:
    return _whole_value(
        _object({"$ref": _constant(ref), "reference": _DOCUMENT_ID}, required=("reference",))
    )


def _references_check(config: PropertyConfig) -> Check:
    low = None if config.min is None else int(config.min)
    high = None if config.max is None else int(config.max)
    return _whole_value(
        _object(
            {
                "$ref": _constant("documents"),
                "references": _array(_DOCUMENT_ID, min_items=low, max_items=high),
            },
            required=("references",),
        )
    )


def _image_check(members: Mapping[str, Member]) -> Check:
    """An image value (`li-image`, `li-poster-image`) whose crops and focal point lie within the
    width and height it gives, when it gives both."""
    shape = _object(members)

    def check(value: Any) -> Problem | None:
        if (problem := shape(value, "")) is not None:
            return problem
        width, height = _whole(value.get("width")), _whole(value.get("height"))
        if _is_int(width) and _is_int(height):
            return outside_image(value, width, height)
        return None

    return check


def outside_image(value: Mapping[str, Any], width: int, height: int) -> Problem | None:
    """The first crop of a (valid) crops value, or its focal point, that does not lie within an
    image of `width` x `height` pixels: a crop's right and bottom edges at most the image's, a
    focal point at most on its edge."""
    crops = value.get("crops")
    for i, crop in enumerate(crops if isinstance(crops, list) else ()):
        if not isinstance(crop, dict):
            continue
        x, y, w, h = (_whole(crop.get(side)) for side in ("x", "y", "width", "height"))
        if all(_is_int(n) for n in (x, y, w, h)) and (x + w > width or y + h > height):
            return Problem("outsideImage", (width, height), f"/crops/{i}")
    focal = value.get("focalPoint")
    if isinstance(focal, dict):
        x, y = _whole(focal.get("x")), _whole(focal.get("y"))
        if _is_int(x) and _is_int(y) and (x > width or y > height):
            return Problem("outsideImage", (width, height), "/focalPoint")
    return None


def _whole_numbers(value: Any) -> Any:
    """An image or crops value with its whole numbers as integers (`5.0` as `5`): all of its
    numbers are pixels."""
    if isinstance(value, dict):
        return {key: _whole_numbers(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(member) for member in value]
    return _whole(value)


def _named_crops_check(config: PropertyConfig) -> Check:
    names = tuple(c.name for c in config.namedCrops or ())
    crop = _NAMED_CROP
    if names:
        limited = _one_of(*names)

        def crop(value: Any, at: str) -> Problem | None:
            if (problem := _NAMED_CROP(value, at)) is not None:
                return problem
            return limited(value["name"], f"{at}/name")

    shape = _object({"crops": _array(crop), "focalPoint": _FOCAL_POINT}, required=("crops",))

    def check(value: Any) -> Problem | None:
        if (problem := shape(value, "")) is not None:
            return problem
        seen: set[str] = set()
        for i, each in enumerate(value["crops"]):
            if each["name"] in seen:
                return Problem("uniqueName", (each["name"][:60],), f"/crops/{i}/name")
            seen.add(each["name"])
        return None

    return check


_CHECK_BUILDERS: dict[str, Callable[[PropertyConfig], Check]] = {
    "li-text": _string_check,
    "li-string": _string_check,
    "li-external-id": _string_check,
    "li-media-handle": _string_check,
    "li-url": lambda c: _string_check(c, "uri"),
    "li-color": lambda c: _string_check(c, "color"),
    "li-date": lambda c: _string_check(c, "date"),
    "li-datetime": lambda c: _string_check(c, "date-time"),
    "li-system-datetime": lambda c: _string_check(c, "date-time"),
    "li-boolean": _boolean_check,
    "li-invalid": _boolean_check,
    "li-integer": lambda c: _number_check(c, integer=True),
    "li-system-integer": lambda c: _number_check(c, integer=True),
    "li-numeric": lambda c: _number_check(c, integer=False),
    "li-enum": _enum_check,
    "li-string-list": lambda c: _list_check(c, item_type="string"),
    "li-numeric-list": lambda c: _list_check(c, item_type="number"),
    "li-datetime-validity": lambda c: _whole_value(_object({"from": _datetime, "to": _datetime})),
    "li-document-reference": lambda c: _reference_check(c, "document"),
    "li-reference": lambda c: _reference_check(c, "document"),
    "li-document-references": _references_check,
    "li-reference-list": _references_check,
    "li-video-reference": lambda c: _whole_value(
        _object(
            {
                "$ref": _constant("video"),
                "reference": _object({"id": _text, "posterImageId": _text}, required=("id",)),
            },
            required=("reference",),
        )
    ),
    "li-license-profile": lambda c: _whole_value(_object({"handle": _text}, required=("handle",))),
    "li-metadata-translations": lambda c: _whole_value(_LOCALE_LABEL),
    "li-media-language": lambda c: _whole_value(_LOCALE_LABEL),
    "li-google-vision": lambda c: _whole_value(
        _object({"labels": _array(_text), "webEntities": _array(_text)})
    ),
    "li-image": lambda c: _image_check(_IMAGE_MEMBERS | {"focalPoint": _FOCAL_POINT}),
    "li-poster-image": lambda c: _image_check(_IMAGE_MEMBERS),
    "li-named-crops": _named_crops_check,
    "li-transcoding-state": lambda c: _whole_value(_TRANSCODING_STATE),
}
# How a value is stored, where that is not as it came.
_STORED_AS: dict[str, Callable[[Any], Any]] = {
    "li-integer": _whole,
    "li-system-integer": _whole,
    "li-image": _whole_numbers,
    "li-poster-image": _whole_numbers,
    "li-named-crops": _whole_numbers,
}
# The original's plugins its docs mark as not indexed for search (`searchIndexing: false`):
# their `index` marks nothing.
NOT_INDEXED = frozenset({"li-image", "li-media-language", "li-named-crops", "li-poster-image"})


class MetadataSchema:
    """The compiled checks of one media type's metadata properties."""

    def __init__(self, properties: list[MetadataProperty]) -> None:
        self.properties = {p.handle: p for p in properties}
        self._checks: dict[str, Check] = {
            p.handle: _CHECK_BUILDERS[p.type](p.config) for p in properties
        }
        self._stored_as = {p.handle: _STORED_AS[p.type] for p in properties if p.type in _STORED_AS}
        self._required = tuple(p.handle for p in properties if p.config.required)
        self._untranslatable = frozenset(
            p.handle for p in properties if not p.config.translatable or p.type in ENTRY_STATE_TYPES
        )
        self._cropped = tuple(p.handle for p in properties if p.type == "li-named-crops")
        # What `q` searches of this type's metadata: the properties marked `index`, or (None)
        # every one when none is.
        self.searched: tuple[str, ...] | None = (
            tuple(p.handle for p in properties if p.config.index and p.type not in NOT_INDEXED)
            or None
        )

    def validate(
        self, metadata: Any, *, locale: str | None = None, partial: bool = False
    ) -> list[MetadataIssue]:
        """All problems of a metadata object; `partial` skips required (translations, patches).

        A None value means "not set", so it passes every check but `required`.
        """
        if not isinstance(metadata, Mapping):
            return [MetadataIssue("", "object", (), locale)]
        issues: list[MetadataIssue] = []
        for handle, value in metadata.items():
            check = self._checks.get(handle)
            if check is None:
                issues.append(MetadataIssue(handle, "additionalProperties", (handle,), locale))
            elif locale is not None and handle in self._untranslatable:
                issues.append(MetadataIssue(handle, "translatable", (), locale))
            elif value is not None and (problem := check(value)) is not None:
                issues.append(_issue(handle, problem, locale))
        if not partial:
            for handle in self._required:
                if metadata.get(handle) is None:
                    issues.append(MetadataIssue(handle, "required", (handle,), locale))
        return issues

    def validate_property(
        self, handle: str, value: Any, locale: str | None = None
    ) -> list[MetadataIssue]:
        """Problems of setting one property, of a translation when `locale` is given (a null
        value removes it; a translation may always leave a property out)."""
        if handle not in self._checks:
            return [MetadataIssue(handle, "additionalProperties", (handle,), locale)]
        if locale is not None and handle in self._untranslatable:
            return [MetadataIssue(handle, "translatable", (), locale)]
        if value is None:
            if handle in self._required and locale is None:
                return [MetadataIssue(handle, "required", (handle,))]
            return []
        problem = self._checks[handle](value)
        return [] if problem is None else [_issue(handle, problem, locale)]

    def outside_image(
        self, metadata: Mapping[str, Any], width: int, height: int, locale: str | None = None
    ) -> list[MetadataIssue]:
        """The named crops (`li-named-crops`) of valid metadata that do not lie within the
        entry's image of `width` x `height` pixels."""
        issues = []
        for handle in self._cropped:
            value = metadata.get(handle)
            if isinstance(value, Mapping) and (found := outside_image(value, width, height)):
                issues.append(_issue(handle, found, locale))
        return issues

    def stored(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """Valid metadata as it is stored: without nulls (null means "not set"), and an
        integer sent as `5.0` as `5`."""
        return {
            key: self.stored_value(key, value)
            for key, value in metadata.items()
            if value is not None
        }

    def stored_value(self, handle: str, value: Any) -> Any:
        """One valid value as it is stored."""
        stored_as = self._stored_as.get(handle)
        return value if stored_as is None else stored_as(value)


def _issue(handle: str, problem: Problem, locale: str | None) -> MetadataIssue:
    return MetadataIssue(handle, problem.keyword, problem.params, locale, problem.at)


def without_nulls(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Stored metadata never holds nulls: null means the property is not set."""
    return {key: value for key, value in metadata.items() if value is not None}
