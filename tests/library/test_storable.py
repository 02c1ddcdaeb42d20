"""What can be stored is decided in the library, for every caller: a value no database of
medialib's keeps as it came (NUL, integers beyond 64 bits, nesting past 254) is refused by the
models and the metadata rules themselves, not only by the API's reading of a body."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import orjson
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medialib.errors import BadRequest
from medialib.imports.kinds import KINDS
from medialib.imports.requests import parse_import
from medialib.library import storable
from medialib.library.config import FileConfig, compile_config
from medialib.library.entries import judge_entry
from medialib.library.models import PatchIn, PatchRequestIn
from medialib.library.patches import PatchRules, parse_patch_request
from tests.support.entries import image_entry
from tests.support.stack import stack_config

PROJECT = compile_config(FileConfig.model_validate(stack_config()), "test").projects["typed"]
RULES = PatchRules(frozenset({"setMetadataProperty", "revokeAsset"}), True, True)
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
BIG = 2**64


def _deep(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_an_entry_with_what_cannot_be_stored_is_refused_field_by_field() -> None:
    cases = {
        "metadata.score": image_entry("2026/11/23/a.jpeg", metadata={"title": "T", "score": BIG}),
        "externalId": image_entry("2026/11/23/a.jpeg", externalId="a\x00b"),
        "asset.filename": image_entry("2026/11/23/a.jpeg", metadata={"title": "T"})
        | {"asset": {"key": "2026/11/23/a.jpeg", "filename": "a\x00.jpeg"}},
    }
    for field, raw in cases.items():
        outcome, candidate = judge_entry(PROJECT, 0, raw, NOW)

        assert candidate is None
        assert outcome.failure is not None
        [error] = outcome.failure.errors
        assert error["property"] == field
        assert error["message"] in (storable.NUL, storable.BIG_INTEGER)


@pytest.mark.parametrize(
    ("patch", "where", "message"),
    [
        ({"operation": "revokeAsset", "note": "a\x00b"}, "patches.0.note", storable.NUL),
        (
            {"operation": "setMetadataProperty", "propertyName": "score", "value": -(2**63) - 1},
            "patches.0.value",
            storable.BIG_INTEGER,
        ),
        (
            {"operation": "setMetadataProperty", "propertyName": "focus", "value": _deep(300)},
            "patches.0.value",
            storable.TOO_DEEP,
        ),
    ],
)
def test_a_patch_with_what_cannot_be_stored_is_refused(
    patch: dict[str, Any], where: str, message: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_patch_request({"patches": [patch]}, RULES)

    assert refused.value.details == {where: message}


def test_a_model_made_in_code_refuses_too() -> None:
    # A caller that skips parse_patch_request (as the web view once did) is refused all the same.
    with pytest.raises(pydantic.ValidationError) as refused:
        PatchIn(operation="revokeAsset", note="a\x00b")
    assert refused.value.errors()[0]["msg"] == storable.NUL
    # Models inside models are theirs to judge: a checked one is taken as it is.
    made = PatchRequestIn(patches=[PatchIn(operation="revokeAsset", note="fine")])
    assert made.patches[0].note == "fine"


def test_an_import_with_what_cannot_be_stored_is_refused() -> None:
    item = {"url": "https://archive.example/a.jpg", "id": "a", "fileName": "a\x00", "metadata": {}}
    raw = {"systemName": "s", "context": {"n": BIG}, "images": [item]}

    with pytest.raises(BadRequest) as refused:
        parse_import(raw, KINDS.named("image"), PROJECT, 10)

    assert refused.value.details == {
        "context.n": storable.BIG_INTEGER,
        "images.0.fileName": storable.NUL,
    }


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (
            {"caption": "a\x00b"},
            "The value of '/caption' must NOT contain NUL characters (\\u0000)",
        ),
        (
            {"keywords": ["a", "\x00"]},
            "The value of '/keywords' must NOT contain NUL characters (\\u0000)",
        ),
        ({"score": BIG}, "The value of '/score' must be within 64 bits"),
        ({"focus": [1, -(2**63) - 1]}, "The value of '/focus' must be within 64 bits"),
    ],
)
def test_metadata_rules_refuse_what_cannot_be_stored(
    metadata: dict[str, Any], message: str
) -> None:
    # A file's own metadata (EXIF) reaches the rules without passing any request model.
    schema = PROJECT.media_types["image"].schema

    issues = schema.validate({"title": "T"} | metadata)

    assert [i.message() for i in issues] == [message]


# JSON text as any client may write it: integers of any size, digits inside strings too.
integers = st.integers() | st.integers(2**63 - 5, 2**64 + 5) | st.integers(-(2**63) - 5, -(2**63))
texts = st.text(st.characters(blacklist_characters="\x00"), max_size=8) | st.from_regex(
    r"[0-9]{15,30}", fullmatch=True
)
values = st.recursive(
    st.none() | st.booleans() | integers | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def _beyond_64_bits(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not storable.INT64[0] <= value <= storable.INT64[1]
    if isinstance(value, list):
        return any(_beyond_64_bits(v) for v in value)
    if isinstance(value, dict):
        return any(_beyond_64_bits(v) for v in value.values())
    return False


@given(values)
def test_a_body_is_refused_exactly_when_it_has_an_integer_beyond_64_bits(value: Any) -> None:
    text = json.dumps(value).encode()
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return  # a number too large for a double: refused as invalid JSON already

    if _beyond_64_bits(value):
        with pytest.raises(BadRequest) as refused:
            storable.loads(text)
        assert refused.value.details == {"body": storable.BIG_INTEGER}
    else:
        assert storable.loads(text) == orjson.loads(text)
