"""A file's own metadata read onto a media type's properties, as a property (hypothesis): a file's
text is anybody's, and whatever it says, extraction answers values the property's rules accept
and JSON can store, and never raises."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from medialib.library.config import FileConfig, compile_config
from medialib.library.extraction import extracted_metadata
from tests.support.strategies import number_texts

TYPES = ("li-text", "li-integer", "li-numeric", "li-date", "li-datetime", "li-string-list")
FIELDS = {kind: f"Field{i}" for i, kind in enumerate(TYPES)}
CONFIG = {
    "projects": [
        {
            "handle": "demo",
            "mediaTypes": [
                {
                    "handle": "image",
                    "type": "mediaImage",
                    "metadata": [
                        {"handle": kind.removeprefix("li-"), "type": kind} for kind in TYPES
                    ],
                    "exifExtraction": {
                        "mappings": [
                            {"field": field, "metadataPropertyName": kind.removeprefix("li-")}
                            for kind, field in FIELDS.items()
                        ]
                    },
                }
            ],
        }
    ]
}
MEDIA_TYPE = (
    compile_config(FileConfig.model_validate(CONFIG), "test").projects["demo"].media_types["image"]
)

texts = (
    number_texts
    | st.sampled_from(("2024:01:02 10:00:00", "2024:13:40 99:00:00", "-", "--5", "+5"))
    | st.text(max_size=20)
)
said = texts | st.lists(texts, max_size=3) | st.integers() | st.floats()


@given(st.dictionaries(st.sampled_from(sorted(FIELDS.values())), said))
@example({FIELDS["li-integer"]: "\u00b2"})
@example({FIELDS["li-integer"]: "--5"})
@example({FIELDS["li-integer"]: "9" * 30})
def test_a_file_s_metadata_becomes_values_the_rules_accept_or_nothing(
    embedded: dict[str, Any],
) -> None:
    found = extracted_metadata(embedded, MEDIA_TYPE)

    assert MEDIA_TYPE.schema.validate(found, partial=True) == []
    assert orjson.loads(orjson.dumps(found)) == found
    integer = found.get("integer")
    assert integer is None or -(2**63) <= integer < 2**63
