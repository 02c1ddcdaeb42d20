"""`index: true` decides what `q` searches (issue 28, item 2): a media type that marks any of its
properties (of the plugins the original indexes) is searched in those and the file name only;
one that marks none, in every property. Project `config-keys` (tests/support/stack.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx

from medialib.db.tables import media_entries
from medialib.library.browse import FEW_MATCHES
from medialib.library.repository import entry_row
from tests.api.test_media_library_browse import LIST, listed, walk
from tests.support.entries import (
    STORED_MP4,
    file_asset,
    image_asset,
    import_entries,
    insert_rows,
    new_key,
    video_asset,
)
from tests.support.stack import Stack

PROJECT = "config-keys"


def word() -> str:
    """A word no other entry holds (letters only: one word to both indexes)."""
    return "w" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])


async def stored(stack: Stack, api: httpx.AsyncClient, media_type: str, **entry: Any) -> str:
    if media_type == "video":
        key = new_key("mp4")
        await stack.put_asset(key, STORED_MP4)
        asset = video_asset(key)
    else:
        key = new_key("jpeg" if media_type == "image" else "pdf")
        await stack.put_asset(key)
        asset = image_asset(key) if media_type == "image" else file_asset(key)
    made = {"mediaType": media_type, "asset": asset} | entry
    [result] = await import_entries(api, [made])
    assert result["ok"], result
    entry_id: str = result["id"]
    return entry_id


async def test_marked_properties_and_the_file_name_are_searched(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    title, caption, tag, label, crop = (word() for _ in range(5))
    image = await stored(
        stack,
        api,
        "image",
        metadata={
            "title": f"Harbour {title}",
            "caption": f"Boats {caption}",
            "tags": ["sea", f"x-{tag}"],
            "vision": {"labels": [label]},
            "crops": {"crops": [{"name": crop, "x": 0, "y": 0, "width": 10, "height": 10}]},
        },
    )
    assert await listed(api, q=title) == [image]
    assert await listed(api, q=f"harbour {title[:5]}") == [image]  # a prefix, with another word
    assert await listed(api, q=tag) == [image]  # a marked list's items
    assert await listed(api, q=caption) == []  # not marked
    assert await listed(api, q=f"{title} {caption}") == []  # every word, in the marked ones
    assert await listed(api, q=label) == []  # not marked
    assert await listed(api, q=crop) == []  # marked, but a plugin the original does not index


async def test_a_type_that_marks_nothing_is_searched_in_every_property(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    caption, video_caption, crop = word(), word(), word()
    document = await stored(stack, api, "file", metadata={"title": "Plan", "caption": caption})
    video = await stored(
        stack,
        api,
        "video",
        metadata={
            "caption": video_caption,
            "crops": {"crops": [{"name": crop, "x": 0, "y": 0, "width": 10, "height": 10}]},
        },
    )
    await stored(stack, api, "image", metadata={"title": "Plan", "caption": caption})

    # The file marks nothing; the video only a plugin that is not indexed: all is searched.
    assert await listed(api, q=caption) == [document]
    assert await listed(api, q=video_caption) == [video]
    assert await listed(api, q=crop) == [video]
    assert await listed(api, q=caption, mediaType="file") == [document]
    assert await listed(api, q=caption, mediaType="image") == []  # its caption is not marked


async def test_the_file_name_is_always_searched(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    name = word()
    key = new_key()
    await stack.put_asset(key)
    [result] = await import_entries(
        api,
        [
            {
                "mediaType": "image",
                "asset": image_asset(key, filename=f"{name}-harbour.jpeg"),
                "metadata": {"title": "Plain", "caption": "nothing marked"},
            }
        ],
    )
    assert result["ok"], result
    assert await listed(api, q=name) == [result["id"]]
    assert await listed(api, q=f"{name} harbour") == [result["id"]]
    assert await listed(api, q=f"{name} nothing") == []  # the caption is not searched
    assert await listed(api, q=f"{name} plain") == [result["id"]]


async def test_changed_marked_words_are_found_and_old_ones_not(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    before, after = word(), word()
    image = await stored(stack, api, "image", metadata={"title": before})
    patch = {"operation": "setMetadataProperty", "propertyName": "title", "value": after}
    response = await api.patch(f"{LIST}/{image}", json={"patches": [patch]})
    assert response.status_code == 200, response.text
    assert await listed(api, q=before) == []
    assert await listed(api, q=after) == [image]
    moved = {"operation": "setMetadataProperty", "propertyName": "caption", "value": after}
    gone = {"operation": "setMetadataProperty", "propertyName": "title", "value": "Other"}
    response = await api.patch(f"{LIST}/{image}", json={"patches": [moved, gone]})
    assert response.status_code == 200, response.text
    assert await listed(api, q=after) == []  # now only in the caption


async def test_accents_and_case_are_folded_in_marked_properties(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    stem = word()
    image = await stored(stack, api, "image", metadata={"title": f"Île d'Yeu {stem}É"})
    assert await listed(api, q=f"{stem}é") == [image]
    assert await listed(api, q=f"{stem.upper()}") == [image]
    assert await listed(api, q=f"yeu {stem}") == [image]
    if stack.backend == "sqlite":  # FTS5 folds accents; PostgreSQL's `simple` does not
        assert await listed(api, q=f"ile {stem}") == [image]


async def test_thousands_of_matches_page_like_a_few(stack: Stack) -> None:
    """Past a few thousand matches SQLite walks the entries: the marked ones are still the only
    ones searched, on every page."""
    common, rare = word(), word()
    now = dt.datetime.now(dt.UTC)
    count = FEW_MATCHES + 500
    rows = []
    for i in range(count):
        # Every third has the words in its title (marked), the others in their caption.
        where = "title" if i % 3 == 0 else "caption"
        words = f"{common} {rare}" if i % 7 == 0 else common
        rows.append(
            entry_row(
                project=PROJECT,
                media_type="image",
                asset={"key": f"indexed/{common}/{i}.jpeg", "filename": "plain.jpeg"},
                metadata={where: words},
                now=now - dt.timedelta(seconds=i // 3),
                entry_id=f"{common[:20]}-{i:05d}",
            )
        )
    await insert_rows(stack, rows)
    api = await stack.api(PROJECT)
    expected = sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    in_titles = [r for r in expected if "title" in r["metadata"]]

    found = await walk(api, 100, q=common)
    assert [e["id"] for e in found] == [r["id"] for r in in_titles]
    both = await walk(api, 100, q=f"{rare} {common}")
    assert [e["id"] for e in both] == [r["id"] for r in in_titles if rare in r["metadata"]["title"]]


async def test_entries_a_writer_left_unindexed_are_indexed_by_the_next_writer(
    stack: Stack,
) -> None:
    """A writer that inserts entries without `index_new_entries` (db/search_index.py) leaves
    them unsearchable only until the next writer's call."""
    api = await stack.api(PROJECT)
    forgotten = word()
    row = entry_row(
        project=PROJECT,
        media_type="image",
        asset={"key": f"indexed/{forgotten}.jpeg", "filename": f"{forgotten}.jpeg"},
        metadata={"title": forgotten},
        now=dt.datetime.now(dt.UTC),
        entry_id=f"{forgotten[:20]}-0",
    )
    await stack.runtime.db.transact(lambda tx: tx.execute(media_entries.insert(), [row]))
    if stack.backend == "sqlite":  # PostgreSQL's generated column needs no writer
        assert await listed(api, q=forgotten) == []

    later = word()
    registered = await stored(stack, api, "image", metadata={"title": later})

    assert await listed(api, q=forgotten) == [row["id"]]
    assert await listed(api, q=later) == [registered]


async def test_hostile_searches_of_marked_properties_are_answered(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    stem = word()
    image = await stored(
        stack, api, "image", metadata={"title": f"日本語 {stem} e\u0301t\u00e9 🙂 it's 100%"}
    )
    for q in (
        f"{stem} '; DROP TABLE media_entries; --",
        f"{stem} %_ \\",
        f"{stem} 日本語",
        f"{stem} \u00e9t\u00e9",  # composed, where the title has it decomposed
        f"{stem} 🙂",
        f"{stem} \x00",
        f"{stem} " + "x" * 400,
    ):
        response = await api.get(LIST, params={"q": q})
        assert response.status_code == 200, (q, response.text)
    assert await listed(api, q=f"{stem} 日本語") == [image]
    assert await listed(api, q=f"{stem} it") == [image]
    assert await listed(api, q=f"{stem} 100") == [image]
    assert await listed(api, q=f"{stem} " + "x" * 400) == []
