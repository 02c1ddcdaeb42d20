"""What an entry's metadata says of its validity at a moment (library/validity.py): the window's
ends (`from` in, `to` out), the next moment the clock alone changes it, what no clock reaches;
and a config that would let a language decide it is refused at start."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from medialib.errors import ConfigError
from medialib.library.config import load_config
from medialib.library.projects import MediaType
from medialib.library.validity import (
    MARKED_INVALID,
    NEVER_VALID,
    NO_LONGER_VALID,
    NOT_YET_VALID,
    Standing,
    standing,
)
from tests.support.stack import VALIDITY_MEDIA_TYPES

NOW = dt.datetime(2026, 12, 8, 12, 0, tzinfo=dt.UTC)
SOON = "2026-12-08T14:00:00+01:00"  # an hour later than NOW, said in Zurich's winter time
LATER = "2026-12-09T12:00:00Z"


def _image_type(tmp_path: Path, metadata: list[dict[str, Any]] | None = None) -> MediaType:
    types = VALIDITY_MEDIA_TYPES
    if metadata is not None:
        types = [{"handle": "image", "type": "mediaImage", "metadata": metadata}]
    path = tmp_path / "medialib.yaml"
    path.write_text(yaml.safe_dump({"projects": [{"handle": "p", "mediaTypes": types}]}))
    return load_config(path).projects["p"].media_types["image"]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, Standing(False)),
        ({"invalid": False}, Standing(False)),
        ({"invalid": True, "validity": {"to": LATER}}, Standing(True, MARKED_INVALID)),
        # `from` is in the window, `to` is not
        ({"validity": {"from": NOW.isoformat()}}, Standing(False)),
        ({"validity": {"to": NOW.isoformat()}}, Standing(True, NO_LONGER_VALID)),
        (
            {"validity": {"from": SOON, "to": LATER}},
            Standing(True, NOT_YET_VALID, NOW + dt.timedelta(hours=1)),
        ),
        ({"validity": {"to": LATER}}, Standing(False, None, NOW + dt.timedelta(days=1))),
        # the earliest boundary of any window is the next change
        (
            {"validity": {"to": LATER}, "embargo": {"from": SOON}},
            Standing(True, NOT_YET_VALID, NOW + dt.timedelta(hours=1)),
        ),
        ({"validity": {"from": LATER, "to": SOON}}, Standing(True, NEVER_VALID)),
        ({"validity": {"from": SOON, "to": SOON}}, Standing(True, NEVER_VALID)),
        # past the last moment UTC can say: never reached, so no look is deferred to it
        ({"validity": {"to": "9999-12-31T23:00:00-14:00"}}, Standing(False)),
        ({"validity": {"from": "9999-12-31T23:00:00-14:00"}}, Standing(True, NOT_YET_VALID)),
        ({"validity": {"from": "0001-01-01T00:00:00+14:00"}}, Standing(False)),
    ],
)
def test_what_the_metadata_says_at_a_moment(
    tmp_path: Path, metadata: dict[str, Any], expected: Standing
) -> None:
    found = standing(_image_type(tmp_path), metadata, NOW)

    assert found == expected
    assert found.next_change is None or found.next_change.tzinfo == dt.UTC


def test_a_media_type_without_such_properties_or_none_at_all_says_valid(tmp_path: Path) -> None:
    plain = _image_type(tmp_path, [{"handle": "invalid", "type": "li-boolean"}])

    assert standing(plain, {"invalid": True}, NOW) == Standing(False)
    assert standing(None, {"invalid": True}, NOW) == Standing(False)


@pytest.mark.parametrize("kind", ["li-invalid", "li-datetime-validity"])
def test_a_language_may_not_decide_validity(tmp_path: Path, kind: str) -> None:
    translated = [{"handle": "x", "type": kind, "config": {"translatable": True}}]
    kept = [{"handle": "x", "type": kind, "config": {"translatable": False}}]

    with pytest.raises(ConfigError) as refused:
        _image_type(tmp_path, translated)
    assert f"{kind} decides whether the entry is served: it cannot be translatable" in str(
        refused.value
    )
    assert "x" in _image_type(tmp_path, kept).schema.properties
