"""GET /api/{version}/mediaLibrary without ids: the library newest first, filtered, searched,
and walked with a cursor (issue 12, item 1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from medialib.library.repository import entry_row
from tests.support.entries import (
    file_asset,
    import_entries,
    insert_rows,
    new_key,
    stored_image,
    unique,
)
from tests.support.stack import Stack

LIST = "/api/2026-05/mediaLibrary"


async def walk(api: httpx.AsyncClient, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """Every page of a listing, in order."""
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": limit, **filters} | ({"cursor": cursor} if cursor else {})
        response = await api.get(LIST, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["results"]) <= limit
        seen += page["results"]
        cursor = page["cursor"]
        if cursor is None:
            return seen


def newest_first(records: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(records, key=lambda r: (r["createdAt"], r["id"]), reverse=True)
    return [r["id"] for r in ordered]


async def listed(api: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await api.get(LIST, params=params)
    assert response.status_code == 200, response.text
    return [entry["id"] for entry in response.json()["results"]]


async def test_a_walk_sees_every_entry_once_while_entries_are_added(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    before = [await stored_image(stack, api) for _ in range(7)]
    seen: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await api.get(LIST, params=params)).json()
        seen += page["results"]
        added.append(await stored_image(stack, api))  # newer than the walk: ahead of it
        cursor = page["cursor"]
        if cursor is None:
            break
    ids = [entry["id"] for entry in seen]
    assert ids == newest_first(before)
    assert len(added) == 3
    everything = await walk(api, 100)
    assert [entry["id"] for entry in everything] == newest_first(before + added)


async def test_entries_are_listed_as_they_are_read(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api, metadata={"title": "Shape"})
    page = (await api.get(LIST)).json()
    assert page == {"results": [record], "cursor": None}
    older = (await api.get("/api/2025-11/mediaLibrary")).json()
    assert older == {"mediaLibraryEntries": [record], "cursor": None}


async def test_each_filter_narrows_the_list(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    picture = await stored_image(stack, api, systemName="old-archive")
    key = new_key("pdf")
    await stack.put_asset(key)
    [made] = await import_entries(
        api,
        [{"mediaType": "file", "asset": file_asset(key), "metadata": {"title": "A document"}}],
    )
    document = made["record"]
    archived = await stored_image(stack, api)
    revoked = await stored_image(stack, api)
    for record, patch in (
        (archived, {"operation": "archive"}),
        (revoked, {"operation": "revokeAsset"}),
    ):
        response = await api.patch(
            f"{LIST}/{record['id']}", json={"version": 1, "patches": [patch]}
        )
        assert response.status_code == 200, response.text
    everyone = [picture, document, archived, revoked]

    assert await listed(api, mediaType="file") == [document["id"]]
    assert await listed(api, systemName="old-archive") == [picture["id"]]
    assert await listed(api, archived="true") == [archived["id"]]
    assert set(await listed(api, archived="false")) == {e["id"] for e in everyone} - {
        archived["id"]
    }
    assert await listed(api, revoked="true") == [revoked["id"]]
    assert await listed(api, createdBefore=picture["createdAt"]) == []
    after_picture = await listed(api, createdAfter=picture["createdAt"])
    assert picture["id"] not in after_picture
    assert set(after_picture) <= {e["id"] for e in everyone}
    changed = await listed(api, updatedAfter=revoked["createdAt"])
    assert set(changed) >= {revoked["id"]}
    assert await listed(api, updatedAfter="2999-01-01T00:00:00Z") == []
    assert await listed(api, mediaType="file", systemName="old-archive") == []


async def test_q_finds_words_of_the_metadata_and_the_file_name(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    harbour = await stored_image(
        stack, api, metadata={"title": "Harbour at dawn", "caption": "Fishing boats, Île d'Yeu"}
    )
    mario = await stored_image(
        stack,
        api,
        metadata={"title": "Plumber"},
        asset_changes={"filename": "super-mario.jpeg"},
    )
    await stored_image(stack, api, metadata={"title": "Nothing to see"})

    assert await listed(api, q="harbour") == [harbour["id"]]
    assert await listed(api, q="HARB") == [harbour["id"]]  # a prefix, in any case
    assert await listed(api, q="dawn boats") == [harbour["id"]]  # every word, in any field
    assert await listed(api, q="dawn plumber") == []
    assert await listed(api, q="mario") == [mario["id"]]  # the file name's words
    assert await listed(api, q="yeu") == [harbour["id"]]
    assert await listed(api, q='"harb* -(dawn:^') == [harbour["id"]]  # no operators
    assert len(await listed(api, q="   ")) == 3  # no words: no search
    other = await stack.api("other")
    assert harbour["id"] not in await listed(other, q="harbour")


async def test_q_sees_changed_and_removed_words(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api, metadata={"title": "Lighthouse"})
    patch = {"operation": "setMetadataProperty", "propertyName": "title", "value": "Windmill"}
    response = await api.patch(f"{LIST}/{record['id']}", json={"version": 1, "patches": [patch]})
    assert response.status_code == 200, response.text
    assert await listed(api, q="lighthouse") == []
    assert await listed(api, q="windmill") == [record["id"]]


async def test_bad_listing_parameters_are_400s(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    await stored_image(stack, api)
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"cursor": "bm9wZQ"},
        {"createdAfter": "yesterday"},
        {"archived": "perhaps"},
        {"q": " ".join(unique() for _ in range(11))},
    ):
        response = await api.get(LIST, params=params)
        assert response.status_code == 400, params
        body = response.json()
        assert body["error"] == "Bad Request", body
        assert body["error_details"], body


async def test_a_word_in_thousands_of_entries_pages_like_any_other(
    stack: Stack, project: str
) -> None:
    """Past a few thousand matches, SQLite walks the entries instead of sorting the matches:
    the pages must be the same."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        entry_row(
            project=project,
            media_type="image",
            asset={"key": f"bulk/{i}.jpeg", "filename": f"bulk-{i}.jpeg"},
            metadata={"title": "common" if i % 4 else "common rare"},
            now=now - dt.timedelta(seconds=i // 3),  # three at a time share their time
            entry_id=f"bulk-{i:05d}",
        )
        for i in range(6000)
    ]
    await insert_rows(stack, rows)
    api = await stack.api(project)
    expected = sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)

    pages = await walk(api, 100, q="common")
    assert [e["id"] for e in pages] == [r["id"] for r in expected]
    rare = await walk(api, 100, q="rare common")
    assert [e["id"] for e in rare] == [
        r["id"] for r in expected if "rare" in r["metadata"]["title"]
    ]


async def test_a_word_is_the_start_of_few_or_many_terms(stack: Stack, project: str) -> None:
    """On SQLite a word that begins a few of the index's terms is asked as those terms, one that
    begins many stays a prefix query: the answers must not tell them apart."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        entry_row(
            project=project,
            media_type="image",
            asset={"key": f"terms/{i}.jpeg", "filename": "plain.jpeg"},
            metadata={"title": f"lot{i} harbour"},
            now=now - dt.timedelta(seconds=i),
            entry_id=f"terms-{i:03d}",
        )
        for i in range(50)
    ]
    await insert_rows(stack, rows)
    api = await stack.api(project)

    assert len(await walk(api, 100, q="lot harbour")) == 50  # 50 terms begin with "lot"
    assert [e["id"] for e in await walk(api, 100, q="lot4")] == [
        f"terms-{i:03d}" for i in range(4, 50) if str(i).startswith("4")
    ]
    assert await listed(api, q="lotx") == []  # begins no term
    assert await listed(api, q="lot49 harbour") == ["terms-049"]
