"""What the API shows of an entry and medialib keeps itself, as properties (hypothesis): whatever
a caller sends in those fields, judging an entry never writes them into its row as sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from medialib.library.config import FileConfig, compile_config
from medialib.library.entries import judge_entry
from medialib.library.models import READ_ONLY_ASSET_FIELDS, FailureKind, stored_objects
from tests.support.stack import stack_config
from tests.support.strategies import json_values

PROJECT = compile_config(FileConfig.model_validate(stack_config()), "test").projects["demo"]
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)

texts = st.text(max_size=40) | st.text(min_size=4000, max_size=4200)
sha256s = st.from_regex(r"[0-9a-f]{64}", fullmatch=True) | texts
read_only_asset = st.fixed_dictionaries(
    {},
    optional={
        "url": texts | json_values,
        "originalUrl": texts | json_values,
        "imageService": texts | json_values,
        "storage": texts | json_values | st.dictionaries(st.text(max_size=5), json_values),
        "sha256": sha256s | json_values,
        "videoCodec": texts | json_values,
        "audioCodec": texts | json_values,
    },
)
read_only_entry = st.fixed_dictionaries(
    {},
    optional={
        "version": st.integers(-5, 2**60) | st.text(max_size=20) | json_values,
        "createdAt": texts | json_values,
        "updatedAt": texts | json_values,
        "archived": st.booleans() | json_values,
        "revoked": st.booleans() | json_values,
        "revokeNote": st.text(max_size=210) | json_values,
    },
)
locales = st.sampled_from(("de", "de-CH", "i-klingon", "DE", "d", "de_CH", "de\n")) | st.text(
    max_size=40
)


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(("image", "video")))
    asset: dict[str, Any] = {"key": "2026/11/a.jpg", "size": 5, "width": 10, "height": 10}
    if kind == "image":
        asset |= {"filename": "a.jpg", "mimeType": "image/jpeg"}
    else:
        asset |= {"filename": "a.mp4", "mimeType": "video/mp4", "duration": 2.0}
        asset["poster"] = {"key": "2026/11/p.jpg", "width": 10, "height": 10}
        asset["poster"] |= draw(read_only_asset.map(lambda a: {k: a[k] for k in list(a)[:2]}))
    translation = {"locale": draw(locales), "metadata": {"title": "T"}}
    if draw(st.booleans()):
        translation["asset"] = {
            "key": "2026/11/t.jpg",
            "size": 5,
            "width": 10,
            "height": 10,
            "filename": "t.jpg",
            "mimeType": "image/jpeg" if kind == "image" else "video/mp4",
            **({"duration": 1.0} if kind == "video" else {}),
        } | draw(read_only_asset)
    return {
        "mediaType": kind,
        "asset": asset | draw(read_only_asset),
        "metadata": {"title": "A"},
        "translations": [translation],
    } | draw(read_only_entry)


@given(entries())
def test_read_only_fields_never_reach_a_row_as_sent(raw: dict[str, Any]) -> None:
    outcome, candidate = judge_entry(PROJECT, 0, raw, NOW)

    if candidate is None:
        assert outcome.failure is not None
        assert outcome.failure.kind == FailureKind.INVALID
        assert outcome.failure.errors or outcome.failure.message
        return
    row = candidate.row
    stored = [row["asset"]] + [t["asset"] for t in row["translations"] if "asset" in t]
    for asset in stored:
        for one in stored_objects(asset).values():
            assert not READ_ONLY_ASSET_FIELDS & set(one), one  # a sha256 is added once checked
    assert row["version"] == 1
    assert (row["created_at"], row["updated_at"]) == (NOW, NOW)
    assert row["revoked"] is (raw.get("revoked") is True)
    assert row["archived"] is (raw.get("archived") is True)
    assert row["revoke_note"] == (raw.get("revokeNote") if row["revoked"] else None)
    claimed = {key for _, key, _ in candidate.hashes}
    assert claimed <= {a["key"] for a in stored}
