"""Judging media library entries and parsing patches, as properties (hypothesis): any JSON a
caller sends becomes a clean row to write or a reasoned refusal, never an exception."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from medialib.api.versions import VERSIONS
from medialib.errors import BadRequest
from medialib.library.config import FileConfig, compile_config
from medialib.library.entries import judge_entry
from medialib.library.models import FailureKind, PatchRequestIn
from medialib.library.patches import MAX_NOTE_LENGTH, PatchRules, parse_patch_request
from medialib.library.repository import is_valid_entry_id
from medialib.media.storage import is_valid_key
from medialib.parsing import is_media_type, whole_number
from tests.support.stack import stack_config
from tests.support.strategies import json_values, mangled, maybe, storable_texts

PROJECT = compile_config(FileConfig.model_validate(stack_config()), "test").projects["typed"]
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)

keys = st.sampled_from(("2026/11/a.jpg", "b.png", "../etc/passwd", "/abs.jpg", "a//b.jpg", ""))
keys |= st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9][a-z0-9._-]{0,7}){0,3}", fullmatch=True)


# What callers say, and types no header can carry (`\w` took them: 一 is a letter).
MIME_TYPES = ("image/jpeg", "image/png", "application/pdf", "image/x\u4e00", "image/png\n")


@st.composite
def assets(draw: st.DrawFn) -> dict[str, Any]:
    asset = {
        "key": draw(maybe(keys)),
        "width": draw(maybe(st.integers(1, 10_000))),
        "height": draw(maybe(st.integers(1, 10_000))),
        "size": draw(maybe(st.integers(0, 2**40))),
        "mimeType": draw(maybe(st.sampled_from(MIME_TYPES))),
        "filename": draw(maybe(st.text(min_size=1, max_size=20))),
        "url": draw(st.none() | st.text(max_size=10)),
    }
    return draw(mangled(asset))


metadata_values = st.fixed_dictionaries(
    {"title": maybe(st.text(max_size=20))},
    optional={
        "caption": maybe(st.text()),
        "credit": maybe(st.text(max_size=5)),
        "published": maybe(st.booleans()),
        "rank": maybe(st.integers(-5, 15)),
        "score": maybe(st.floats(allow_nan=False)),
        "license": maybe(st.sampled_from(("cc-by", "rights-managed", "other"))),
        "shotOn": maybe(st.dates().map(dt.date.isoformat)),
        "keywords": maybe(st.lists(st.text(max_size=5), max_size=4)),
        "link": st.sampled_from(("https://a.example/", "javascript:alert(1)")),
        "unknown": json_values,
    },
)
translations = st.lists(
    st.fixed_dictionaries(
        {"locale": maybe(st.sampled_from(("de", "fr", "de-CH", "it")))},
        optional={"metadata": metadata_values, "asset": assets()},
    ),
    max_size=3,
    unique_by=lambda t: str(t["locale"]),
)
origins: st.SearchStrategy[dict[str, Any]] = st.just({}) | st.fixed_dictionaries(
    {"systemName": maybe(st.text(min_size=1, max_size=10))},
    optional={"externalId": maybe(st.text(min_size=1, max_size=10))},
)


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    entry = {
        "id": draw(st.none() | maybe(st.from_regex(r"[A-Za-z0-9-]{1,34}", fullmatch=True))),
        "mediaType": draw(maybe(st.sampled_from(("image", "image", "image", "document", "nope")))),
        "asset": draw(maybe(assets())),
        "metadata": draw(maybe(metadata_values)),
        "translations": draw(maybe(translations)),
        **draw(origins),
    }
    return draw(mangled({k: v for k, v in entry.items() if v is not None}))


@given(st.one_of(entries(), entries(), entries(), json_values))
@example(
    {
        "mediaType": "image",
        "asset": {"key": "a.jpg", "width": 1, "height": 1, "size": 1, "filename": "a.jpg"}
        | {"mimeType": "image/x\u4e00"},
        "metadata": {"title": "A"},
    }
)
def test_an_entry_is_a_clean_row_or_a_reasoned_refusal(raw: Any) -> None:
    outcome, candidate = judge_entry(PROJECT, 0, raw, NOW)

    assert (outcome.failure is None) == (candidate is not None)
    if candidate is None:
        assert outcome.failure is not None
        assert outcome.failure.kind == FailureKind.INVALID
        assert outcome.failure.message
        return
    row = candidate.row
    assert is_valid_entry_id(row["id"])
    assert row["external_id"] is None or row["system_name"] is not None
    assert all(is_valid_key(key) and not key.startswith("v/") for key in candidate.assets)
    assert is_media_type(row["asset"].get("mimeType", "image/jpeg"))
    media_type = PROJECT.media_types[row["media_type"]]
    assert media_type.schema.validate(row["metadata"]) == []
    assert None not in row["metadata"].values()
    for translation in row["translations"]:
        locale = translation["locale"]
        assert (
            media_type.schema.validate(translation["metadata"], locale=locale, partial=True) == []
        )
    stored = {k: row[k] for k in ("asset", "metadata", "translations")}
    assert orjson.loads(orjson.dumps(stored)) == stored


@given(
    st.fixed_dictionaries(
        {"title": storable_texts(max_size=20)},
        optional={"rank": st.integers(1, 10), "keywords": st.lists(storable_texts(), max_size=3)},
    ),
    # Any key a caller may register: not under v/, where medialib keeps renditions.
    st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9][a-z0-9._-]{0,7}){0,3}", fullmatch=True).filter(
        lambda key: not key.startswith("v/")
    ),
)
def test_a_well_formed_entry_is_always_accepted(metadata: dict[str, Any], key: str) -> None:
    raw = {
        "mediaType": "image",
        "asset": {"key": key, "width": 10, "height": 10, "size": 5, "filename": "a.jpg"}
        | {"mimeType": "image/jpeg"},
        "metadata": metadata,
    }

    outcome, candidate = judge_entry(PROJECT, 0, raw, NOW)

    assert outcome.failure is None
    assert candidate is not None
    assert candidate.row["metadata"] == metadata


OPERATIONS = (
    "setMetadataProperty",
    "replaceAsset",
    "removeAsset",
    "archive",
    "unarchive",
    "revokeAsset",
    "unrevokeAsset",
    "deleteEverything",
)


# Digits `str.isdigit` takes that are not ASCII ('²', which `int` refuses; Arabic-Indic ones),
# and more digits than `int` reads.
VERSIONS_SENT = ("3", "x", "-1", "\u00b2", "\u0661", "9" * 5000)


@st.composite
def patch_requests(draw: st.DrawFn) -> dict[str, Any]:
    patch = st.fixed_dictionaries(
        {"operation": maybe(st.sampled_from(OPERATIONS))},
        optional={
            "propertyName": maybe(st.sampled_from(("title", "rank", ""))),
            "value": json_values | assets(),
            "locale": maybe(st.sampled_from(("de", "fr-CH", "EN"))),
            "note": maybe(st.text(max_size=MAX_NOTE_LENGTH + 5)),
        },
    )
    body = {
        "version": draw(maybe(st.integers(0, 10) | st.sampled_from(VERSIONS_SENT))),
        "preserveUpdatedAt": draw(maybe(st.booleans())),
        "patches": draw(maybe(st.lists(patch.map(lambda p: p), min_size=1, max_size=4))),
    }
    return draw(mangled(body))


def _rules(version: str) -> PatchRules:
    api = VERSIONS[version]
    return PatchRules(
        operations=api.patch_operations,
        revoke_conflicts=api.revoke_conflicts,
        preserve_updated_at=api.preserve_updated_at,
    )


def _parsed(raw: Any, rules: PatchRules) -> PatchRequestIn | BadRequest:
    try:
        return parse_patch_request(raw, rules)
    except BadRequest as error:
        return error


@pytest.mark.parametrize("version", ["v1", "2025-11", "2026-01", "2026-03"])
@given(raw=st.one_of(patch_requests(), patch_requests(), json_values))
@example(raw={"version": "\u00b2", "patches": [{"operation": "archive"}]})
@example(raw={"version": "9" * 5000, "patches": [{"operation": "archive"}]})
def test_a_patch_request_keeps_its_version_s_rules_or_is_a_400(version: str, raw: Any) -> None:
    rules = _rules(version)

    request = _parsed(raw, rules)

    if isinstance(request, BadRequest):
        assert request.details
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in request.details.items())
        return
    assert 1 <= len(request.patches) <= 100
    assert request.preserveUpdatedAt is None or rules.preserve_updated_at
    assert request.version is None or whole_number(str(request.version)) is not None
    for patch in request.patches:
        assert patch.operation in rules.operations
        assert patch.operation != "setMetadataProperty" or patch.propertyName
        assert patch.operation != "replaceAsset" or isinstance(patch.value, dict)
        assert patch.operation != "removeAsset" or patch.locale is not None
        if patch.note is not None:
            assert patch.operation == "revokeAsset"
            assert len(patch.note) <= MAX_NOTE_LENGTH
