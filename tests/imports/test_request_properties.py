"""Import request parsing as properties (hypothesis): any JSON body is either a request that
keeps every promise a job relies on, or a 400 naming field paths; never anything else."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from medialib.errors import BadRequest
from medialib.imports.kinds import FILE, IMAGE, ImportKind
from medialib.imports.requests import MAX_CONTEXT_BYTES, ImportRequest, parse_import
from medialib.library.config import FileConfig, compile_config
from medialib.media.fetch import FetchError, check_url
from tests.support.stack import stack_config
from tests.support.strategies import json_values, mangled, maybe, rarely, storable_texts

PROJECT = compile_config(FileConfig.model_validate(stack_config()), "test").projects["typed"]
MAX_ITEMS = 5
GOOD_IMAGE = {
    "url": "https://archive.example/a.jpg",
    "id": "a",
    "fileName": "a.jpg",
    "metadata": {},
}

good_urls = st.from_regex(
    r"https?://[a-z]{1,10}\.example(:[0-9]{1,4})?/[a-z0-9./]{0,20}", fullmatch=True
)
urls = st.sampled_from(
    (
        "https://archive.example/a.jpg",
        "http://127.0.0.1:8080/b.png",
        "data:image/png;base64,AAAA",
        "ftp://archive.example/a.jpg",
        "https://user:pw@archive.example/a.jpg",
        "http://2130706433/",
        "http://[::1/",
        "https://archive.example:99999/",
        "javascript:alert(1)",
        "",
    )
) | st.text(max_size=30)


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    item = {
        "url": draw(maybe(st.one_of(good_urls, good_urls, good_urls, urls))),
        "id": draw(maybe(st.text(min_size=1, max_size=6))),
        "fileName": draw(maybe(st.text(min_size=1, max_size=20))),
        "metadata": draw(maybe(st.dictionaries(st.text(max_size=5), json_values, max_size=3))),
        "mediaType": draw(st.none() | st.sampled_from(("image", "document", "nope"))),
    }
    return draw(mangled(item))


@st.composite
def bodies(draw: st.DrawFn, key: str) -> Any:
    body = {
        "systemName": draw(maybe(st.text(min_size=1, max_size=10))),
        "webhook": draw(st.none() | good_urls | urls),
        "context": draw(st.none() | st.dictionaries(st.text(max_size=5), json_values)),
        key: draw(maybe(st.lists(items(), min_size=1, max_size=MAX_ITEMS + 1))),
    }
    shaped = draw(mangled(body))
    return [shaped] if draw(rarely) else shaped


def _passes_check_url(url: str, *, credentials: bool = False) -> bool:
    try:
        check_url(url, credentials=credentials)
    except FetchError:
        return False
    return True


def _parsed(raw: Any, kind: ImportKind) -> ImportRequest | BadRequest:
    try:
        return parse_import(raw, kind, PROJECT, MAX_ITEMS)
    except BadRequest as error:
        return error


@pytest.mark.parametrize("kind", [IMAGE, FILE], ids=["image", "file"])
@given(data=st.data())
def test_a_body_is_a_sound_request_or_a_400_naming_fields(
    kind: ImportKind, data: st.DataObject
) -> None:
    raw = data.draw(json_values if data.draw(rarely) else bodies(kind.plural))

    request = _parsed(raw, kind)

    if isinstance(request, BadRequest):
        assert request.details
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in request.details.items())
        return
    assert 1 <= len(request.items) <= MAX_ITEMS
    assert len({item.id for item in request.items}) == len(request.items)
    assert all(_passes_check_url(item.url) for item in request.items)
    # A webhook is the caller's own receiver: it may carry credentials (sent as Basic auth).
    assert request.webhook is None or _passes_check_url(request.webhook, credentials=True)
    assert len(orjson.dumps(request.context)) <= MAX_CONTEXT_BYTES
    for item in request.items:
        media_type = PROJECT.media_types[item.mediaType or kind.name]
        assert media_type.kind == kind.media_kind


@given(
    st.lists(storable_texts(min_size=1, max_size=8), min_size=1, max_size=MAX_ITEMS, unique=True)
)
def test_a_well_formed_body_is_always_accepted(ids: list[str]) -> None:
    images = [
        {"url": f"https://archive.example/{i}.jpg", "id": id_, "fileName": "a.jpg", "metadata": {}}
        for i, id_ in enumerate(ids)
    ]

    request = parse_import({"systemName": "archive", "images": images}, IMAGE, PROJECT, 5)

    assert [item.id for item in request.items] == ids


def _nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"n": value}
    return value


# What JSON can spell but medialib cannot store again: integers past 64 bits, nesting past
# orjson's 254 levels (a body's parser refuses them; a caller of `parse_import` may not).
unstorable = st.one_of(
    st.integers(min_value=2**64, max_value=2**70),
    st.integers(min_value=-(2**70), max_value=-(2**63) - 1),
    st.integers(250, 300).map(_nested),
)


@given(st.dictionaries(st.text(max_size=5), json_values | unstorable, max_size=4))
@example({"n": 2**64})
@example({"deep": _nested(300)})
@example({"big": "x" * (MAX_CONTEXT_BYTES + 1)})
def test_a_context_is_json_medialib_can_store_or_a_400_naming_it(context: dict[str, Any]) -> None:
    body = {"systemName": "archive", "images": [GOOD_IMAGE], "context": context}

    request = _parsed(body, IMAGE)

    if isinstance(request, BadRequest):  # named at the context, or at the value inside it
        assert all(field.split(".")[0] == "context" for field in request.details), request.details
        return
    assert request.context == context
    assert len(orjson.dumps(request.context)) <= MAX_CONTEXT_BYTES
