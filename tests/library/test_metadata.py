"""Metadata validation rules, as pure functions (the API tests cover their wiring)."""

from __future__ import annotations

from typing import Any

import pytest

from medialib.library.metadata import MetadataProperty, MetadataSchema
from tests.support.stack import TYPED_MEDIA_TYPES

SCHEMA = MetadataSchema(
    [MetadataProperty.model_validate(p) for p in TYPED_MEDIA_TYPES[0]["metadata"]]
)
VALID = {"title": "Ok"}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"title": 5}, "The value of '/title' must be string"),
        ({"title": "x" * 21}, "The value of '/title' must NOT have more than 20 characters"),
        ({"published": "yes"}, "The value of '/published' must be boolean"),
        ({"rank": 1.5}, "The value of '/rank' must be integer"),
        ({"rank": True}, "The value of '/rank' must be integer"),
        ({"rank": 11}, "The value of '/rank' must be <= 10"),
        ({"rank": 0}, "The value of '/rank' must be >= 1"),
        ({"score": "1"}, "The value of '/score' must be number"),
        ({"score": float("nan")}, "The value of '/score' must be number"),
        (
            {"license": "public"},
            "The value of '/license' must be equal to one of the allowed values",
        ),
        ({"shotOn": "2024-02-30"}, "The value of '/shotOn' must match format \"date\""),
        ({"shotOn": "24-02-01"}, "The value of '/shotOn' must match format \"date\""),
        (
            {"shotAt": "2024-02-01T10:00:00"},
            "The value of '/shotAt' must match format \"date-time\"",
        ),
        ({"shotAt": "yesterday"}, "The value of '/shotAt' must match format \"date-time\""),
        ({"keywords": ["a", 1]}, "The value of '/keywords' must be array of strings"),
        (
            {"keywords": ["a", "b", "c", "d"]},
            "The value of '/keywords' must NOT have more than 3 items",
        ),
        ({"focus": [1, "2"]}, "The value of '/focus' must be array of numbers"),
        ({"link": "javascript:alert(1)"}, "The value of '/link' must match format \"uri\""),
        ({"unknown": 1}, "The metadata must NOT have additional property 'unknown'"),
    ],
)
def test_each_type_refuses_what_it_must(metadata: dict[str, Any], message: str) -> None:
    issues = SCHEMA.validate(VALID | metadata)

    assert [i.message() for i in issues] == [message]


@pytest.mark.parametrize(
    "metadata",
    [
        {"published": False},
        {"rank": 10, "score": 2.5},
        {"score": -3},
        {"license": "cc-by"},
        {"shotOn": "2024-02-29"},
        {"shotAt": "2024-02-01T10:00:00Z"},
        {"shotAt": "2024-02-01T10:00:00.123+02:00"},
        {"keywords": ["a", "b"], "focus": [0.5, 1]},
        {"link": "https://example.com/a?b=c"},
        {"caption": None},
    ],
)
def test_each_type_accepts_what_it_should(metadata: dict[str, Any]) -> None:
    assert SCHEMA.validate(VALID | metadata) == []


def test_required_properties_are_required_unless_partial() -> None:
    [issue] = SCHEMA.validate({})

    assert issue.message() == "The metadata must have required property 'title'"
    assert issue.message("should") == "The metadata should have required property 'title'"
    assert SCHEMA.validate({}, partial=True) == []


def test_metadata_that_is_not_an_object_is_refused() -> None:
    assert [i.message() for i in SCHEMA.validate(["title"])] == ["The metadata must be object"]


def test_a_v1_message_uses_should() -> None:
    [issue] = SCHEMA.validate({"title": 5})

    assert issue.as_dict("should") == {
        "metadataProperty": "title",
        "message": "The value of '/title' should be string",
    }


def test_an_enum_without_options_is_a_config_error() -> None:
    with pytest.raises(ValueError, match=r"li-enum needs config\.options"):
        MetadataProperty.model_validate({"handle": "x", "type": "li-enum"})
