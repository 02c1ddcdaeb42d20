"""Metadata validation: one compiled schema per media type, built once at start.

Each `li-*` property type becomes a small check function. Problems come back as
`MetadataIssue`s (property, keyword, params) so the API can phrase them the way each version
expects ("should be string" in v1, "must be string" from 2025-03 on).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medialib.library.storable import INT64

Phrasing = Literal["should", "must"]


@dataclass(frozen=True, slots=True)
class MetadataIssue:
    """One broken rule; `property` is the metadata property handle ('' for the whole object)."""

    property: str
    keyword: str
    params: tuple[Any, ...] = ()
    locale: str | None = None

    def message(self, phrasing: Phrasing = "must") -> str:
        phrase = _PHRASES[self.keyword][phrasing == "should"].format(*self.params)
        if self.keyword in ("required", "additionalProperties", "object"):
            return f"The metadata {phrase}"
        return f"The value of '/{self.property}' {phrase}"

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
    "format": ('must match format "{0}"', 'should match format "{0}"'),
    "maxItems": ("must NOT have more than {0} items", "should NOT have more than {0} items"),
    "required": ("must have required property '{0}'", "should have required property '{0}'"),
    "additionalProperties": (
        "must NOT have additional property '{0}'",
        "should NOT have additional property '{0}'",
    ),
    "object": ("must be object", "should be object"),
    "translatable": ("is not translatable", "is not translatable"),
    # Not ajv's: what no database of medialib's stores as it came (see library/storable.py).
    "nul": (
        "must NOT contain NUL characters (\\u0000)",
        "should NOT contain NUL characters (\\u0000)",
    ),
    "int64": ("must be within 64 bits", "should be within 64 bits"),
}

Check = Callable[[Any], "tuple[str, tuple[Any, ...]] | None"]


class EnumOption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str | int | float
    label: str | None = None


class PropertyConfig(BaseModel):
    """The `config` of one metadata property; unknown keys are refused to catch typos."""

    model_config = ConfigDict(extra="forbid")

    required: bool = False
    maxLength: int | None = Field(default=None, ge=1)
    minLength: int | None = Field(default=None, ge=0)
    min: float | None = None
    max: float | None = None
    maxItems: int | None = Field(default=None, ge=0)
    options: list[EnumOption] | None = None
    # False: the property belongs to the entry, not to a language (translations may not set it).
    translatable: bool = True

    @model_validator(mode="before")
    @classmethod
    def _unused(cls, data: Any) -> Any:
        if isinstance(data, dict) and "index" in data:
            raise ValueError(
                "'index' is not used by medialib (it searches every text property): remove it"
            )
        return data


PropertyType = Literal[
    "li-text",
    "li-string",
    "li-url",
    "li-boolean",
    "li-integer",
    "li-numeric",
    "li-enum",
    "li-date",
    "li-datetime",
    "li-string-list",
    "li-numeric-list",
]


class MetadataProperty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=100)
    type: PropertyType
    config: PropertyConfig = Field(default_factory=PropertyConfig)

    @model_validator(mode="before")
    @classmethod
    def _unused(cls, data: Any) -> Any:
        if isinstance(data, dict) and "ui" in data:
            raise ValueError("'ui' (editor settings) is not used by medialib: remove it")
        return data

    @model_validator(mode="after")
    def _enum_needs_options(self) -> MetadataProperty:
        if self.type == "li-enum" and not self.config.options:
            raise ValueError("li-enum needs config.options, a list of {value, label}")
        return self


def _is_int(value: Any) -> bool:
    # One beyond 64 bits is an integer all the same, which `_unstorable` refuses by name.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_int(value)


def _unstorable(value: Any) -> tuple[str, tuple[Any, ...]] | None:
    """A text with NUL or an integer beyond 64 bits: values of the right type that no database
    of medialib's keeps as they came (the file metadata of an import may hold either)."""
    if isinstance(value, str) and "\x00" in value:
        return ("nul", ())
    if _is_int(value) and not INT64[0] <= value <= INT64[1]:
        return ("int64", ())
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
    if len(value) < 20 or "T" not in value.upper():
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


def _string_check(config: PropertyConfig, fmt: str | None = None) -> Check:
    max_length, min_length = config.maxLength, config.minLength

    def check(value: Any) -> tuple[str, tuple[Any, ...]] | None:
        if not isinstance(value, str):
            return ("type", ("string",))
        if (unstorable := _unstorable(value)) is not None:
            return unstorable
        if max_length is not None and len(value) > max_length:
            return ("maxLength", (max_length,))
        if min_length is not None and len(value) < min_length:
            return ("minLength", (min_length,))
        if fmt == "date" and not _is_date(value):
            return ("format", ("date",))
        if fmt == "date-time" and not _is_datetime(value):
            return ("format", ("date-time",))
        if fmt == "uri" and not _is_url(value):
            return ("format", ("uri",))
        return None

    return check


def _number_check(config: PropertyConfig, *, integer: bool) -> Check:
    accepts = _is_int if integer else _is_number
    type_name = "integer" if integer else "number"
    low, high = config.min, config.max

    def check(value: Any) -> tuple[str, tuple[Any, ...]] | None:
        if not accepts(value):
            return ("type", (type_name,))
        if (unstorable := _unstorable(value)) is not None:
            return unstorable
        if low is not None and value < low:
            return ("minimum", (_plain(low),))
        if high is not None and value > high:
            return ("maximum", (_plain(high),))
        return None

    return check


def _plain(number: float) -> float | int:
    return int(number) if float(number).is_integer() else number


def _boolean_check(config: PropertyConfig) -> Check:
    def check(value: Any) -> tuple[str, tuple[Any, ...]] | None:
        return None if isinstance(value, bool) else ("type", ("boolean",))

    return check


def _enum_check(config: PropertyConfig) -> Check:
    allowed = frozenset((type(o.value), o.value) for o in config.options or ())

    def check(value: Any) -> tuple[str, tuple[Any, ...]] | None:
        # Options are strings and numbers: a list or object (unhashable) is simply not one.
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return ("enum", ())
        return None if (type(value), value) in allowed else ("enum", ())

    return check


def _list_check(config: PropertyConfig, *, item_type: str) -> Check:
    accepts: Callable[[Any], bool] = (
        (lambda item: isinstance(item, str)) if item_type == "string" else _is_number
    )
    max_items = config.maxItems

    def check(value: Any) -> tuple[str, tuple[Any, ...]] | None:
        if not isinstance(value, list) or not all(accepts(item) for item in value):
            return ("type", (f"array of {item_type}s",))
        for item in value:
            if (unstorable := _unstorable(item)) is not None:
                return unstorable
        if max_items is not None and len(value) > max_items:
            return ("maxItems", (max_items,))
        return None

    return check


_CHECK_BUILDERS: dict[str, Callable[[PropertyConfig], Check]] = {
    "li-text": _string_check,
    "li-string": _string_check,
    "li-url": lambda c: _string_check(c, "uri"),
    "li-date": lambda c: _string_check(c, "date"),
    "li-datetime": lambda c: _string_check(c, "date-time"),
    "li-boolean": _boolean_check,
    "li-integer": lambda c: _number_check(c, integer=True),
    "li-numeric": lambda c: _number_check(c, integer=False),
    "li-enum": _enum_check,
    "li-string-list": lambda c: _list_check(c, item_type="string"),
    "li-numeric-list": lambda c: _list_check(c, item_type="number"),
}


class MetadataSchema:
    """The compiled checks of one media type's metadata properties."""

    def __init__(self, properties: list[MetadataProperty]) -> None:
        self.properties = {p.handle: p for p in properties}
        self._checks: dict[str, Check] = {
            p.handle: _CHECK_BUILDERS[p.type](p.config) for p in properties
        }
        self._required = tuple(p.handle for p in properties if p.config.required)
        self._untranslatable = frozenset(p.handle for p in properties if not p.config.translatable)

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
                issues.append(MetadataIssue(handle, problem[0], problem[1], locale))
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
        return [] if problem is None else [MetadataIssue(handle, problem[0], problem[1], locale)]


def without_nulls(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Stored metadata never holds nulls: null means the property is not set."""
    return {key: value for key, value in metadata.items() if value is not None}
