"""Metadata validation as properties (hypothesis): for any schema a project can configure and any
JSON a caller can send, validation answers with issues and never raises; what it accepts obeys
every rule of its type; what obeys the rules is accepted."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medialib.library.metadata import (
    _PHRASES,
    MetadataProperty,
    MetadataSchema,
    without_nulls,
)
from tests.support.strategies import body_integers, json_values, storable_texts

HANDLES = ("title", "rank", "score", "tags", "when", "day", "link", "flag", "kind", "points")
STRING_TYPES = ("li-text", "li-string")
FORMAT_TYPES = ("li-url", "li-date", "li-datetime")

# Strings that look nearly right to the format checks: the edges where a check is most likely
# to be too lenient.
near_misses = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(("http://", "https://", "HTTP://", "javascript:", "//"))
    | st.dates().map(dt.date.isoformat)
    | st.datetimes().map(dt.datetime.isoformat),
    st.text(max_size=12),
)


ALL_TYPES = (
    *STRING_TYPES,
    *FORMAT_TYPES,
    "li-boolean",
    "li-integer",
    "li-numeric",
    "li-enum",
    "li-string-list",
    "li-numeric-list",
)


@st.composite
def properties(draw: st.DrawFn, handle: str, kind: str | None = None) -> MetadataProperty:
    kind = kind or draw(st.sampled_from(ALL_TYPES))
    config: dict[str, Any] = {"required": draw(st.booleans())}
    if kind in STRING_TYPES:
        low = draw(st.none() | st.integers(0, 10))
        high = draw(st.none() | st.integers(max(low or 1, 1), 40))
        config |= {"minLength": low, "maxLength": high}
    if kind in ("li-integer", "li-numeric"):
        low_bound = draw(st.none() | st.integers(-1000, 1000))
        high_bound = draw(st.none() | st.integers(-1000 if low_bound is None else low_bound, 2000))
        config |= {"min": low_bound, "max": high_bound}
    if kind == "li-enum":
        values = draw(st.lists(st.text(max_size=8) | body_integers, min_size=1, unique=True))
        config["options"] = [{"value": v} for v in values]
    if kind.endswith("-list"):
        config["maxItems"] = draw(st.none() | st.integers(0, 5))
    return MetadataProperty(handle=handle, type=kind, config=config)


@st.composite
def schemas(draw: st.DrawFn) -> list[MetadataProperty]:
    handles = draw(st.lists(st.sampled_from(HANDLES), min_size=1, max_size=6, unique=True))
    return [draw(properties(handle)) for handle in handles]


def valid_value(prop: MetadataProperty) -> st.SearchStrategy[Any]:
    """Values that obey every rule of the property, built from the rules, not from the code."""
    config = prop.config
    if prop.type in STRING_TYPES:
        return storable_texts(config.minLength or 0, config.maxLength or 40)
    if prop.type == "li-url":
        host = st.from_regex(r"[a-z][a-z0-9-]{0,20}\.[a-z]{2,6}", fullmatch=True)
        path = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~/%?=&", max_size=30)
        scheme = st.sampled_from(("http", "https", "HTTPS"))
        return st.builds(lambda s, h, p: f"{s}://{h}/{p}", scheme, host, path)
    if prop.type == "li-date":
        return st.dates().map(dt.date.isoformat)
    if prop.type == "li-datetime":
        offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
            lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
        )
        return st.datetimes(timezones=offsets).map(dt.datetime.isoformat)
    if prop.type == "li-boolean":
        return st.booleans()
    integers = st.integers(_int(config.min, -(2**63)), _int(config.max, 2**64 - 1))
    if prop.type == "li-integer":
        return integers
    if prop.type == "li-numeric":
        return integers | st.floats(config.min, config.max, allow_nan=False, allow_infinity=False)
    if prop.type == "li-enum":
        return st.sampled_from([option.value for option in config.options or ()])
    items = storable_texts(max_size=10) if prop.type == "li-string-list" else st.floats(-1e9, 1e9)
    return st.lists(items, max_size=5 if config.maxItems is None else config.maxItems)


def _int(bound: float | None, otherwise: int) -> int:
    return otherwise if bound is None else int(bound)


def obeys_its_type(prop: MetadataProperty, value: Any) -> bool:
    """The rules of a property type, written out once more as plainly as they can be."""
    config = prop.config
    if prop.type in (*STRING_TYPES, *FORMAT_TYPES):
        return (
            isinstance(value, str)
            and "\x00" not in value
            and (config.maxLength is None or len(value) <= config.maxLength)
            and (config.minLength is None or len(value) >= config.minLength)
            and _obeys_format(prop.type, value)
        )
    if prop.type == "li-boolean":
        return isinstance(value, bool)
    if prop.type in ("li-integer", "li-numeric"):
        finite = type(value) is float and math.isfinite(value)
        number = _storable_int(value) or (
            finite and (prop.type == "li-numeric" or (_storable_int(int(value)) and value % 1 == 0))
        )
        return (
            number
            and (config.min is None or value >= config.min)
            and (config.max is None or value <= config.max)
        )
    if prop.type == "li-enum":
        return any(type(o.value) is type(value) and o.value == value for o in config.options or ())
    item_type: Any = str if prop.type == "li-string-list" else (int, float)
    return (
        isinstance(value, list)
        and all(isinstance(i, item_type) and not isinstance(i, bool) for i in value)
        and all(_storable_int(i) for i in value if type(i) is int)
        and not any(isinstance(i, str) and "\x00" in i for i in value)
        and (config.maxItems is None or len(value) <= config.maxItems)
    )


def _storable_int(value: Any) -> bool:
    """A whole number JSON stores: 64 bits, signed or not."""
    return type(value) is int and -(2**63) <= value <= 2**64 - 1


def _has_port(parts: SplitResult) -> bool:
    return parts.port is None or 0 <= parts.port <= 65535


def _obeys_format(kind: str, value: str) -> bool:
    try:
        if kind == "li-date":
            return dt.date.fromisoformat(value).isoformat() == value
        if kind == "li-datetime":  # RFC 3339 allows a lowercase t and z
            return dt.datetime.fromisoformat(value.upper()).tzinfo is not None
        if kind == "li-url":
            parts = urlsplit(value)
            printable = not any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value)
            slashes = value[len(parts.scheme) : len(parts.scheme) + 3] == "://"
            web = parts.scheme.lower() in ("http", "https")
            return printable and web and slashes and bool(parts.hostname) and _has_port(parts)
    except ValueError:
        return False
    return True


@given(schemas(), st.dictionaries(st.sampled_from(HANDLES) | st.text(max_size=8), json_values))
def test_any_metadata_gets_issues_never_an_exception(
    props: list[MetadataProperty], metadata: dict[str, Any]
) -> None:
    schema = MetadataSchema(props)

    issues = schema.validate(metadata)

    required = {p.handle for p in props if p.config.required}
    for issue in issues:
        assert issue.keyword in _PHRASES
        assert issue.property in metadata or issue.property in required
        assert issue.message("should")
        assert issue.message("must")
    assert len(issues) == len({(i.property, i.keyword) for i in issues})


@given(schemas(), st.data())
def test_what_is_accepted_obeys_every_rule_of_its_type(
    props: list[MetadataProperty], data: st.DataObject
) -> None:
    schema = MetadataSchema(props)
    metadata = {
        p.handle: data.draw(json_values | near_misses | valid_value(p), label=p.handle)
        for p in props
    }

    refused = {issue.property for issue in schema.validate(metadata)}

    for prop in props:
        value = metadata[prop.handle]
        if prop.handle not in refused:
            assert (value is None and not prop.config.required) or obeys_its_type(prop, value)


# Integers a form's text or a file's EXIF can spell, past what JSON stores.
huge_integers = st.integers(2**64, 2**80) | st.integers(-(2**80), -(2**63) - 1)


@pytest.mark.parametrize("kind", ALL_TYPES)
@given(data=st.data())
def test_each_type_accepts_only_what_obeys_it(kind: str, data: st.DataObject) -> None:
    prop = data.draw(properties("value", kind))
    value = data.draw(
        json_values | near_misses | valid_value(prop) | huge_integers | st.lists(huge_integers)
    )

    accepted = MetadataSchema([prop]).validate({"value": value}) == []

    unset = value is None and not prop.config.required
    assert accepted == (unset or obeys_its_type(prop, value))


@given(schemas(), st.data())
def test_what_obeys_the_rules_is_accepted_and_stores_as_json(
    props: list[MetadataProperty], data: st.DataObject
) -> None:
    schema = MetadataSchema(props)
    metadata = {p.handle: data.draw(valid_value(p), label=p.handle) for p in props}

    assert schema.validate(metadata) == []
    stored = without_nulls(metadata)
    assert orjson.loads(orjson.dumps(stored)) == stored


@given(schemas(), st.data())
def test_a_partial_change_is_judged_like_the_whole(
    props: list[MetadataProperty], data: st.DataObject
) -> None:
    schema = MetadataSchema(props)
    prop = data.draw(st.sampled_from(props))
    value = data.draw(st.none() | json_values | valid_value(prop))

    alone = schema.validate_property(prop.handle, value)
    within = [i for i in schema.validate({prop.handle: value}) if i.property == prop.handle]

    assert [i.keyword for i in alone] == [i.keyword for i in within]


@given(schemas(), json_values.filter(lambda v: not isinstance(v, dict)))
def test_metadata_that_is_not_an_object_is_one_issue(
    props: list[MetadataProperty], metadata: Any
) -> None:
    issues = MetadataSchema(props).validate(metadata)

    assert [(i.property, i.keyword) for i in issues] == [("", "object")]
