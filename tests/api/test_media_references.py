"""Entries whose metadata names other entries (li-image, li-poster-image, li-video-reference):
each reference names an entry of the same project of the right kind, or the write is refused
in the words of a metadata error (import/mediaLibrary, PATCH, URL imports, the web view's form);
and GET /mediaLibrary/{id}/incomingMediaReferences lists the entries that name an entry, an array
up to 2025-11 and `{total, cursor, results}` from 2026-01. Hostile values are at the end."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from medialib.auth.tokens import READ, WRITE
from medialib.db.engine import Tx
from medialib.db.tables import media_entries
from medialib.library import references
from tests.support import media
from tests.support.entries import (
    STORED_MP4,
    image_asset,
    import_entries,
    new_key,
    unique,
    video_asset,
)
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack
from tests.support.web import sign_in

V = "2026-05"
PROJECT = "referencing"  # tests/support/stack.py: REFERENCING_MEDIA_TYPES
OTHER = "referencing-too"  # the same media types, in another project
ARRAY_VERSIONS = ["v1", "beta", "2025-03", "2025-05", "2025-07", "2025-09", "2025-11"]
PAGED_VERSIONS = ["2026-01", "2026-03", "2026-05", "2026-07"]
IMAGE_MUST = "must name a mediaImage entry of this project"
VIDEO_MUST = "must name a mediaVideo entry of this project"


def _image_link(media_id: str) -> dict[str, Any]:
    """An li-image value as the original stores one (its plugin page's storageFormat)."""
    return {
        "originalUrl": "https://images.example/a.jpeg",
        "url": "https://images.example/a.jpeg?w=1",
        "mediaId": media_id,
        "width": 640,
        "height": 480,
        "mimeType": "image/jpeg",
        "imageService": "imgix",
    }


def _clip(video_id: str, poster_id: str | None = None) -> dict[str, Any]:
    reference = {"id": video_id} | ({"posterImageId": poster_id} if poster_id else {})
    return {"$ref": "video", "reference": reference}


async def _image(
    stack: Stack, metadata: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    key = new_key()
    await stack.put_asset(key)
    entry = {
        "id": unique("img"),
        "mediaType": "image",
        "asset": image_asset(key),
        "metadata": {"title": "A picture"} | (metadata or {}),
    }
    return entry | fields


async def _video(
    stack: Stack, metadata: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    key = new_key("mp4")
    await stack.put_asset(key, STORED_MP4)
    entry = {
        "id": unique("vid"),
        "mediaType": "video",
        "asset": video_asset(key),
        "metadata": {"title": "A clip"} | (metadata or {}),
    }
    return entry | fields


async def _imported(api: httpx.AsyncClient, *entries: dict[str, Any]) -> list[str]:
    results = await import_entries(api, list(entries))
    assert all(r["ok"] for r in results), results
    return [str(r["id"]) for r in results]


async def _incoming(api: httpx.AsyncClient, entry_id: str, version: str = V, **params: Any) -> Any:
    response = await api.get(
        f"/api/{version}/mediaLibrary/{entry_id}/incomingMediaReferences", params=params
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _naming(api: httpx.AsyncClient, entry_id: str) -> dict[str, list[tuple[str, str]]]:
    """The entries that name `entry_id`: {referrer: [(propertyName, type)]}."""
    body = await _incoming(api, entry_id)
    assert body["total"] == len(body["results"])
    found = {}
    for referrer in body["results"]:
        for ref in referrer["references"]:
            assert ref["id"] == entry_id
            assert ref["location"] == "metadata"
        found[referrer["id"]] = [(r["propertyName"], r["type"]) for r in referrer["references"]]
    return found


async def _patch(
    api: httpx.AsyncClient, entry_id: str, *patches: dict[str, Any], version: str = V
) -> httpx.Response:
    return await api.patch(
        f"/api/{version}/mediaLibrary/{entry_id}", json={"patches": list(patches)}
    )


def _set(prop: str, value: Any, locale: str | None = None) -> dict[str, Any]:
    patch = {"operation": "setMetadataProperty", "propertyName": prop, "value": value}
    return patch | ({"locale": locale} if locale else {})


# --- Which entries name an entry ---------------------------------------------------------------


async def test_the_entries_that_name_an_entry_are_listed_with_each_property(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [picture, clip] = await _imported(api, await _image(stack), await _video(stack))
    linking = await _image(stack, {"imageLink": _image_link(picture)})
    video = await _video(
        stack, {"posterImage": _image_link(picture), "clip": _clip(clip, poster_id=picture)}
    )
    [linking_id, video_id] = await _imported(api, linking, video)

    body = await _incoming(api, picture)
    old = await _incoming(api, picture, "2025-11")

    assert list(body) == ["total", "cursor", "results"]
    assert body["total"] == 2
    assert body["cursor"] is None
    expected = {
        linking_id: [
            {"id": picture, "type": "image", "location": "metadata", "propertyName": "imageLink"}
        ],
        video_id: [
            {"id": picture, "type": "image", "location": "metadata", "propertyName": "clip"},
            {"id": picture, "type": "image", "location": "metadata", "propertyName": "posterImage"},
        ],
    }
    assert body["results"] == [
        {"id": entry_id, "references": expected[entry_id]} for entry_id in sorted(expected)
    ]
    assert old == body["results"]
    assert await _naming(api, clip) == {video_id: [("clip", "video")]}
    assert await _naming(api, video_id) == {}


@pytest.mark.parametrize("version", ARRAY_VERSIONS + PAGED_VERSIONS)
async def test_each_version_answers_in_its_shape(stack: Stack, version: str) -> None:
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))
    [linking] = await _imported(api, await _image(stack, {"imageLink": _image_link(picture)}))

    body = await _incoming(api, picture, version)

    results = [
        {
            "id": linking,
            "references": [
                {
                    "id": picture,
                    "type": "image",
                    "location": "metadata",
                    "propertyName": "imageLink",
                }
            ],
        }
    ]
    if version in ARRAY_VERSIONS:
        assert body == results
    else:
        assert body == {"total": 1, "cursor": None, "results": results}


async def test_an_entry_may_name_one_the_same_request_imports(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    poster = await _image(stack)
    video = await _video(stack, {"posterImage": _image_link(poster["id"])})

    # The video comes first and names the poster image that comes after it.
    [video_id, poster_id] = await _imported(api, video, poster)

    assert await _naming(api, poster_id) == {video_id: [("posterImage", "image")]}


async def test_an_entry_that_names_a_refused_one_of_the_same_request_is_refused(
    stack: Stack,
) -> None:
    api = await stack.api(PROJECT)
    broken = await _image(stack)
    broken["asset"]["width"] = 641  # its object is 640 wide
    middle = await _image(stack, {"imageLink": _image_link(broken["id"])})
    first = await _image(stack, {"imageLink": _image_link(middle["id"])})

    results = await import_entries(api, [first, middle, broken])

    assert [r["ok"] for r in results] == [False, False, False]
    for result in results[:2]:
        assert result["error"] == "ValidationError"
        assert result["error_details"]["errors"] == [
            {
                "metadataProperty": "imageLink",
                "message": f"The value of '/imageLink/mediaId' {IMAGE_MUST}",
            }
        ]
    assert "asset" in results[2]["error_details"]["message"]


@pytest.mark.parametrize("version", ["v1", "2025-03", "2026-05"])
async def test_a_missing_entry_is_a_metadata_error_in_each_versions_words(
    stack: Stack, version: str
) -> None:
    api = await stack.api(PROJECT)
    good = await _image(stack)
    bad = await _image(stack, {"imageLink": _image_link(unique("gone")[:20])})

    results = await import_entries(api, [bad, good], version)

    assert results[1]["ok"], results[1]
    refused = results[0]
    assert refused["status"] == 400
    if version == "v1":
        assert refused["error"] == "MetadataValidationErrors"
        assert refused["error_details"]["invalidMetadata"] == [
            {
                "metadataProperty": "imageLink",
                "message": "The value of '/imageLink/mediaId' "
                + IMAGE_MUST.replace("must", "should"),
            }
        ]
    else:
        assert refused["error"] == "ValidationError"
        assert refused["error_details"] == {
            "message": "Metadata validation failed.",
            "errors": [
                {
                    "metadataProperty": "imageLink",
                    "message": f"The value of '/imageLink/mediaId' {IMAGE_MUST}",
                }
            ],
        }
    read = await api.get(f"/api/{V}/mediaLibrary/{bad['id']}")
    assert read.status_code == 404
    assert not any(bad["id"] in row for row in await stack.snapshot(PROJECT))


async def test_an_entry_of_the_wrong_kind_is_refused(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    key = new_key("pdf")
    await stack.put_asset(key, b"%PDF-1.4 ok")
    pdf = {"key": key, "size": 11, "filename": "a.pdf", "mimeType": "application/pdf"}
    [picture, clip, document] = await _imported(
        api,
        await _image(stack),
        await _video(stack),
        {"id": unique("doc"), "mediaType": "file", "asset": pdf, "metadata": {"title": "A"}},
    )
    cases = [
        ({"imageLink": _image_link(clip)}, "/imageLink/mediaId", IMAGE_MUST, "image"),
        ({"imageLink": _image_link(document)}, "/imageLink/mediaId", IMAGE_MUST, "image"),
        ({"posterImage": _image_link(clip)}, "/posterImage/mediaId", IMAGE_MUST, "video"),
        ({"clip": _clip(picture)}, "/clip/reference/id", VIDEO_MUST, "video"),
        (
            {"clip": _clip(clip, poster_id=clip)},
            "/clip/reference/posterImageId",
            IMAGE_MUST,
            "video",
        ),
    ]

    for metadata, at, says, media_type in cases:
        maker = _image if media_type == "image" else _video
        [result] = await import_entries(api, [await maker(stack, metadata)])

        assert not result["ok"], (metadata, result)
        [error] = result["error_details"]["errors"]
        assert error["message"] == f"The value of '{at}' {says}"


async def test_another_projects_entry_is_as_missing_as_one_that_never_was(stack: Stack) -> None:
    mine, theirs = await stack.api(PROJECT), await stack.api(OTHER)
    shared_id = unique("same")
    [their_picture] = await _imported(theirs, await _image(stack, id=shared_id))
    [their_only] = await _imported(theirs, await _image(stack))
    their_before = await stack.snapshot(OTHER)

    [naming_theirs] = await import_entries(
        mine, [await _image(stack, {"imageLink": _image_link(their_only)})]
    )
    # An id both projects have: mine is named, theirs is not.
    [my_picture] = await _imported(mine, await _image(stack, id=shared_id))
    [mine_naming] = await _imported(
        mine, await _image(stack, {"imageLink": _image_link(shared_id)})
    )

    assert not naming_theirs["ok"]
    assert naming_theirs["error_details"]["errors"][0]["message"].endswith(IMAGE_MUST)
    assert my_picture == their_picture == shared_id
    assert await _naming(mine, shared_id) == {mine_naming: [("imageLink", "image")]}
    assert await _naming(theirs, shared_id) == {}
    assert await stack.snapshot(OTHER) == their_before
    other_project = await mine.get(f"/api/{V}/mediaLibrary/{their_only}/incomingMediaReferences")
    assert other_project.status_code == 404
    assert "does not exist" in other_project.json()["error_details"]["message"]


async def test_translations_name_entries_too(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [picture, other_picture] = await _imported(api, await _image(stack), await _image(stack))
    entry = await _image(stack, {"imageLink": _image_link(picture)})
    entry["translations"] = [
        {"locale": "de", "metadata": {"imageLink": _image_link(other_picture)}},
        {"locale": "fr", "metadata": {"imageLink": _image_link(picture)}},
    ]
    bad = await _image(stack)
    bad["translations"] = [{"locale": "it", "metadata": {"imageLink": _image_link("nope")}}]

    [good, refused] = await import_entries(api, [entry, bad])

    assert good["ok"], good
    assert await _naming(api, picture) == {good["id"]: [("imageLink", "image")]}
    assert await _naming(api, other_picture) == {good["id"]: [("imageLink", "image")]}
    assert refused["error_details"]["errors"] == [
        {
            "metadataProperty": "imageLink",
            "message": f"The value of '/imageLink/mediaId' {IMAGE_MUST}",
            "locale": "it",
        }
    ]


# --- Changing references -----------------------------------------------------------------------


async def test_patching_a_reference_moves_it(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [first, second] = await _imported(api, await _image(stack), await _image(stack))
    [entry] = await _imported(api, await _image(stack, {"imageLink": _image_link(first)}))

    moved = await _patch(api, entry, _set("imageLink", _image_link(second)))
    assert moved.status_code == 200, moved.text
    assert await _naming(api, first) == {}
    assert await _naming(api, second) == {entry: [("imageLink", "image")]}

    translated = await _patch(api, entry, _set("imageLink", _image_link(first), locale="de"))
    assert translated.status_code == 200, translated.text
    assert await _naming(api, first) == {entry: [("imageLink", "image")]}

    removed = await _patch(
        api, entry, _set("imageLink", None), _set("imageLink", None, locale="de")
    )
    assert removed.status_code == 200, removed.text
    assert await _naming(api, first) == {}
    assert await _naming(api, second) == {}


async def test_a_patch_naming_a_missing_entry_is_refused_and_changes_nothing(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))
    [entry] = await _imported(api, await _image(stack, {"imageLink": _image_link(picture)}))
    [video] = await _imported(api, await _video(stack))
    before = await stack.snapshot(PROJECT)

    answers = [
        await _patch(api, entry, _set("title", "x"), _set("imageLink", _image_link("missing"))),
        await _patch(api, entry, _set("imageLink", _image_link(video))),
        await _patch(
            api,
            entry,
            _set("imageLink", _image_link(picture), locale="de"),
            _set("title", "y"),
            _set("imageLink", _image_link("gone"), locale="fr"),
        ),
        await _patch(api, video, _set("clip", _clip(video, poster_id=video))),
        await _patch(api, video, _set("clip", _clip(picture))),
    ]

    expected = [
        {"patches.1.value": f"The value of '/imageLink/mediaId' {IMAGE_MUST}"},
        {"patches.0.value": f"The value of '/imageLink/mediaId' {IMAGE_MUST}"},
        {"patches.2.value": f"The value of '/imageLink/mediaId' {IMAGE_MUST}"},
        {"patches.0.value": f"The value of '/clip/reference/posterImageId' {IMAGE_MUST}"},
        {"patches.0.value": f"The value of '/clip/reference/id' {VIDEO_MUST}"},
    ]
    assert [a.status_code for a in answers] == [400] * len(answers), [a.text for a in answers]
    assert [a.json()["error_details"] for a in answers] == expected
    assert await stack.snapshot(PROJECT) == before


async def test_an_entry_may_name_itself_as_its_kind(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    entry = await _image(stack)
    entry["metadata"]["imageLink"] = _image_link(entry["id"])
    [entry_id] = await _imported(api, entry)
    [video] = await _imported(api, await _video(stack))

    patched = await _patch(api, video, _set("clip", _clip(video)))

    assert patched.status_code == 200, patched.text
    assert await _naming(api, entry_id) == {entry_id: [("imageLink", "image")]}
    assert await _naming(api, video) == {video: [("clip", "video")]}


# --- Deleting ----------------------------------------------------------------------------------


async def test_a_deleted_entrys_references_go_with_it(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))
    [naming, other] = await _imported(
        api,
        await _video(stack, {"posterImage": _image_link(picture), "still": _image_link(picture)}),
        await _image(stack, {"imageLink": _image_link(picture)}),
    )

    deleted = await api.delete(f"/api/{V}/mediaLibrary/{naming}")

    assert deleted.status_code == 200, deleted.text
    assert await _naming(api, picture) == {other: [("imageLink", "image")]}


async def test_an_entry_other_entries_name_is_not_deleted_until_they_stop(stack: Stack) -> None:
    """As the original's deletion refuses an entry "referenced by other media library
    entries": the references go first (and an entry that names only itself may go)."""
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))
    naming = sorted(
        await _imported(
            api,
            *[await _image(stack, {"imageLink": _image_link(picture)}) for _ in range(6)],
            await _video(stack, {"posterImage": _image_link(picture)}),
        )
    )
    selfish = await _image(stack)
    selfish["metadata"]["imageLink"] = _image_link(selfish["id"])
    [selfish_id] = await _imported(api, selfish)
    before = await stack.snapshot(PROJECT)

    refused = await api.delete(f"/api/{V}/mediaLibrary/{picture}")

    assert refused.status_code == 409, refused.text
    message = (
        f"MediaLibrary Entry is referenced by other entries (id: '{picture}'): "
        f"{', '.join(naming[:5])}, …; remove their references first"
    )
    assert refused.json()["error_details"] == {"name": "Conflict", "message": message}
    assert await stack.snapshot(PROJECT) == before
    for entry_id in naming:
        [prop] = ["posterImage" if entry_id.startswith("vid") else "imageLink"]
        cleared = await _patch(api, entry_id, _set(prop, None))
        assert cleared.status_code == 200, cleared.text
    assert (await api.delete(f"/api/{V}/mediaLibrary/{picture}")).status_code == 200
    assert (await api.delete(f"/api/{V}/mediaLibrary/{selfish_id}")).status_code == 200
    gone = await api.get(f"/api/{V}/mediaLibrary/{picture}/incomingMediaReferences")
    assert gone.status_code == 404


async def test_references_written_before_they_were_checked_do_not_stop_a_change(
    stack: Stack,
) -> None:
    """Metadata stored before migration 0012 (as medialib took it then: unchecked, unindexed)
    is indexed by the next change, and what it names is not checked again."""
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))
    [entry] = await _imported(api, await _image(stack))
    [video] = await _imported(api, await _video(stack))
    old_metadata = {"title": "Old", "imageLink": _image_link("x" * 40)}
    old_video = {"title": "Old", "posterImage": _image_link(picture), "clip": _clip("gone")}
    async with stack.runtime.db.write() as conn:
        for entry_id, metadata in ((entry, old_metadata), (video, old_video)):
            await conn.execute(
                media_entries.update()
                .where(media_entries.c.project == PROJECT, media_entries.c.id == entry_id)
                .values(metadata=metadata)
            )

    answers = [
        await _patch(api, entry, _set("title", "Changed")),
        await _patch(api, video, _set("title", "Changed")),
    ]

    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert await _naming(api, picture) == {video: [("posterImage", "image")]}


# --- Pages -------------------------------------------------------------------------------------


async def test_incoming_references_come_a_page_at_a_time(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))
    naming = sorted(
        await _imported(
            api, *[await _image(stack, {"imageLink": _image_link(picture)}) for _ in range(5)]
        )
    )
    url = f"/api/{V}/mediaLibrary/{picture}/incomingMediaReferences"

    seen: list[str] = []
    cursor, pages = None, 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = (await api.get(url, params=params)).json()
        assert page["total"] == 5
        seen += [referrer["id"] for referrer in page["results"]]
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break
    by_offset = await _incoming(api, picture, limit=2, offset=3)
    old_offset = await _incoming(api, picture, "2025-11", limit=100, offset=4)

    assert seen == naming
    assert pages == 3
    assert [r["id"] for r in by_offset["results"]] == naming[3:5]
    assert by_offset["total"] == 5
    assert [r["id"] for r in old_offset] == naming[4:]
    assert len((await _incoming(api, picture))["results"]) == 5


# --- URL imports and the web view --------------------------------------------------------------


async def test_url_imports_check_and_index_references(stack: Stack, origin: Origin) -> None:
    importer = await Importer.open(stack, PROJECT)
    try:
        api = importer.api
        [picture, other] = await _imported(api, await _image(stack), await _image(stack))
        url = origin.file(f"refs/{unique()}.jpeg", media.STORED_JPEG, "image/jpeg")
        external = unique("ext")
        status, _ = await importer.run(
            [
                item(url, external, metadata={"imageLink": _image_link(picture)}),
                item(url, unique("ext"), metadata={"imageLink": _image_link("nope")}),
                item(url, unique("ext"), metadata={"imageLink": _image_link(OTHER)}),
            ]
        )
        [made, missing, odd] = status["images"]
        assert made["state"] == "success", made
        for failed in (missing, odd):
            assert failed["state"] == "failed"
            assert failed["reasonCode"] == "invalid_metadata"
            assert failed["reason"] == f"The value of '/imageLink/mediaId' {IMAGE_MUST}"
        made_id = made["image"]["mediaId"]
        assert await _naming(api, picture) == {made_id: [("imageLink", "image")]}

        status, _ = await importer.run(
            [item(url, external, metadata={"imageLink": _image_link(other)})]
        )
        assert status["images"][0]["action"] == "updated", status
        assert await _naming(api, picture) == {}
        assert await _naming(api, other) == {made_id: [("imageLink", "image")]}
    finally:
        await importer.close()


async def test_the_web_view_refuses_a_missing_entry_and_deleting_a_named_one(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [picture, second] = await _imported(api, await _image(stack), await _image(stack))
    [entry] = await _imported(api, await _image(stack, {"imageLink": _image_link(picture)}))
    session = await sign_in(stack, await stack.token(PROJECT))

    def form(media_id: str) -> dict[str, str]:
        return {"title": "A picture", "imageLink": json.dumps(_image_link(media_id))}

    refused = await session.post_form(f"/ui/entries/{entry}/metadata", form("gone"))
    saved = await session.post_form(f"/ui/entries/{entry}/metadata", form(second))

    assert refused.status_code == 400, refused.text[:500]
    assert f"The value of &#39;/imageLink/mediaId&#39; {IMAGE_MUST}" in refused.text
    assert saved.status_code == 303, saved.text[:500]
    assert await _naming(api, picture) == {}
    assert await _naming(api, second) == {entry: [("imageLink", "image")]}
    kept = await session.post_form(f"/ui/entries/{second}/delete", {})
    assert kept.status_code == 409, kept.text[:500]
    assert "referenced by other entries" in kept.text
    assert (await api.get(f"/api/{V}/mediaLibrary/{second}")).status_code == 200


# --- Scopes, 404s and hostile values -----------------------------------------------------------


async def test_reading_needs_the_read_scope(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))
    reader = stack.client(await stack.token(PROJECT, scopes=(READ,)))
    writer = stack.client(await stack.token(PROJECT, scopes=(WRITE,)))
    anonymous = stack.client()
    url = f"/api/{V}/mediaLibrary/{picture}/incomingMediaReferences"

    assert (await reader.get(url)).status_code == 200
    assert (await writer.get(url)).status_code == 403
    assert (await anonymous.get(url)).status_code == 401


@pytest.mark.parametrize(
    "entry_id",
    ["nope", "x" * 33, "x" * 300, "%C3%BC", "..%2F..%2Fetc", "a%00b", "-", "' OR '1'='1"],
)
async def test_unknown_or_malformed_entry_ids_are_a_404(stack: Stack, entry_id: str) -> None:
    api = await stack.api(PROJECT)

    response = await api.get(f"/api/{V}/mediaLibrary/{entry_id}/incomingMediaReferences")

    assert response.status_code == 404, response.text
    assert response.json()["status"] == 404  # the API's error shape (a path with .. is no route)


# (query string, the parameter the 400 names)
HOSTILE_READS: list[tuple[str, str]] = [
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=abc", "limit"),
    ("limit=99999999999999999999999", "limit"),
    ("offset=-1", "offset"),
    ("offset=1e9", "offset"),
    ("offset=99999999999", "offset"),
    ("after=nope", "after"),
    ("after=bXw", "after"),  # "m|": no id
    ("after=ZHwx", "after"),  # "d|1": another endpoint's cursor
    ("after=bXwnIE9SIDE9MQ", "after"),  # "m|' OR 1=1"
    ("after=" + "A" * 10_000, "after"),
    ("after=%00", "after"),
    ("cursor=abc", "cursor"),  # GET /mediaLibrary's name for it
    ("sort=id", "sort"),
    ("limit=1&evil=1", "evil"),
]


@pytest.mark.parametrize(("query", "field"), HOSTILE_READS)
async def test_hostile_reads_are_refused_naming_the_parameter(
    stack: Stack, query: str, field: str
) -> None:
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))

    response = await api.get(f"/api/{V}/mediaLibrary/{picture}/incomingMediaReferences?{query}")

    assert response.status_code == 400, response.text
    assert field in response.json()["error_details"]


# Values that name no entry, each refused in import/mediaLibrary and PATCH alike.
HOSTILE_IDS = [
    "",
    " ",
    "x" * 33,
    "a" * 100_000,
    "' OR '1'='1",
    "1; DROP TABLE media_references; --",
    "%",
    "_",
    "*",
    "..",
    "é",
    "a\u202eb",
    "\ufeff",
    "demo",  # a project's name
]


@pytest.mark.parametrize("media_id", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
async def test_hostile_ids_name_nothing(stack: Stack, media_id: str) -> None:
    api = await stack.api(PROJECT)
    [picture] = await _imported(api, await _image(stack))
    refused = await _image(stack, {"imageLink": _image_link(media_id)})
    before = await stack.snapshot(PROJECT)

    [imported] = await import_entries(api, [refused])
    patched = await _patch(api, picture, _set("imageLink", _image_link(media_id)))

    assert not imported["ok"]
    assert imported["error_details"]["errors"][0]["message"].endswith(IMAGE_MUST)
    assert patched.status_code == 400, patched.text
    assert patched.json()["error_details"]["patches.0.value"].endswith(IMAGE_MUST)
    after = await stack.snapshot(PROJECT)
    assert not any(refused["id"] in row for row in after)
    assert [row for row in after if row not in before] == [
        row
        for row in after
        if refused["asset"]["key"] in row  # its object, claimed (as before)
    ]


@pytest.mark.parametrize(
    "value",
    [{"mediaId": 5}, {"mediaId": ["a"]}, {"mediaId": None, "x": 1}, "img-1", ["img-1"], 7],
    ids=["number", "list", "extra-key", "string", "list-of-ids", "int"],
)
async def test_wrong_shapes_are_refused_before_anything_is_looked_up(
    stack: Stack, value: Any
) -> None:
    api = await stack.api(PROJECT)

    [result] = await import_entries(api, [await _image(stack, {"imageLink": value})])

    assert not result["ok"]
    assert result["error"] == "ValidationError"
    assert result["error_details"]["errors"][0]["metadataProperty"] == "imageLink"
    assert not result["error_details"]["errors"][0]["message"].endswith(IMAGE_MUST)


async def test_a_thousand_entries_naming_a_thousand_missing_ones(stack: Stack) -> None:
    """A whole request of entries each naming a missing entry in many translations: each is
    refused, none gives a 500 (ids are looked up a bounded number at a time)."""
    api = await stack.api(PROJECT)
    key = new_key()
    await stack.put_asset(key)
    entries = []
    for n in range(1000):
        entries.append(
            {
                "id": unique("many"),
                "mediaType": "image",
                "asset": image_asset(key) | {"shared": True},
                "metadata": {"imageLink": _image_link(f"missing-{n}")},
                "translations": [
                    {"locale": f"l{m}", "metadata": {"imageLink": _image_link(f"m-{n}-{m}")}}
                    for m in range(3)
                ],
            }
        )

    results = await import_entries(api, entries)

    assert len(results) == 1000
    assert not any(r["ok"] for r in results)
    assert all(len(r["error_details"]["errors"]) == 4 for r in results)


# --- A reference and a deletion at once --------------------------------------------------------


@pytest.mark.postgres
async def test_a_deletion_waits_for_a_reference_being_written_and_then_sees_it(
    stack: Stack,
) -> None:
    """On PostgreSQL (SQLite has one writer at a time) the entries a reference names are
    locked until the reference is written: a deletion of one of them waits, and then sees it."""
    if stack.backend != "postgres":
        pytest.skip("SQLite writes one transaction at a time")
    api = await stack.api(PROJECT)
    [picture, naming] = await _imported(api, await _image(stack), await _image(stack))
    project = stack.runtime.projects[PROJECT]
    reference = references.Mention(
        references.MediaReference("imageLink", picture, "mediaImage"), ""
    )
    engine = stack.runtime.db.engine

    async with engine.connect() as writer:
        async with writer.begin():
            kinds = await writer.run_sync(
                lambda sync: references.kinds_of(Tx(sync), project, [reference])
            )
            assert kinds == {picture: "mediaImage"}
            await writer.run_sync(
                lambda sync: references.record(Tx(sync), PROJECT, {naming: [reference.reference]})
            )
            deleting = asyncio.create_task(api.delete(f"/api/{V}/mediaLibrary/{picture}"))
            await _someone_waits_for_a_lock(stack)
            assert not deleting.done()
        deleted = await deleting

    assert deleted.status_code == 409, deleted.text
    assert await _naming(api, picture) == {naming: [("imageLink", "image")]}


async def _someone_waits_for_a_lock(stack: Stack) -> None:
    """Until a session of the database waits for a lock (the only witness there is)."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(10):
        while True:
            async with stack.runtime.db.read() as conn:
                if await conn.scalar(query):
                    return
            await asyncio.sleep(0.01)
