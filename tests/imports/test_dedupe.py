"""Content dedupe: an item whose bytes the project holds already says which entry it duplicates,
and keeps an object and URLs of its own (trust issue, item 2): revoking or deleting either entry
never touches the other. On a local store the two objects share their bytes (a hard link)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin

LIBRARY = "/api/2026-05/mediaLibrary"


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


async def imported(importer: Importer, url: str, external_id: str) -> dict[str, Any]:
    status, _ = await importer.run([item(url, external_id)])
    [result] = status["images"]
    assert result["state"] == "success", result
    return dict(result)


def key_of(result: dict[str, Any]) -> str:
    return str(result["image"]["originalUrl"]).rsplit("/media/", 1)[1]


async def test_the_same_bytes_under_another_id_say_so_and_keep_urls_of_their_own(
    importer: Importer, origin: Origin
) -> None:
    picture = media.jpeg(71, 53)
    first = await imported(importer, origin.file(path("a.jpg"), picture), "photo-a")
    second = await imported(importer, origin.file(path("b.jpg"), picture), "photo-b")

    assert "duplicateOf" not in first
    assert second["duplicateOf"] == first["image"]["mediaId"]
    assert second["image"]["mediaId"] != first["image"]["mediaId"]
    assert key_of(second) != key_of(first)
    storage = importer.stack.runtime.storage
    if storage.is_local:  # one copy of the bytes underneath: a hard link
        one, other = (storage.local_path(key_of(r)) for r in (first, second))
        assert one is not None
        assert other is not None
        assert one.stat().st_ino == other.stat().st_ino

    deleted = await importer.api.delete(f"{LIBRARY}/{first['image']['mediaId']}")
    assert deleted.status_code == 200
    assert (await importer.stack.client().get(f"/media/{key_of(second)}")).content == picture
    async with asyncio.timeout(30):  # a task deletes it; storage is the only witness
        while await storage.head(key_of(first)) is not None:
            await asyncio.sleep(0.02)
    assert (await importer.stack.client().get(f"/media/{key_of(second)}")).content == picture


async def test_revoking_one_of_two_entries_of_the_same_bytes_takes_down_its_urls_only(
    importer: Importer, origin: Origin
) -> None:
    """A legal takedown of one entry: its original, renditions and serve-image answer 403 at
    once, while the entry that holds the same bytes under another id is served as before."""
    picture = media.jpeg(81, 67)
    taken_down = await imported(importer, origin.file(path("a.jpg"), picture), "photo-g")
    kept = await imported(importer, origin.file(path("b.jpg"), picture), "photo-h")
    public, api = importer.stack.client(), importer.api
    for result in (taken_down, kept):  # renditions exist before the takedown
        assert (await public.get(f"/media/{key_of(result)}?w=20")).status_code == 200

    revoke = {"version": 1, "patches": [{"operation": "revokeAsset"}]}
    answer = await api.patch(f"{LIBRARY}/{taken_down['image']['mediaId']}", json=revoke)

    assert answer.json() == {"status": 200}  # nothing shared: nothing else is affected
    for url in (f"/media/{key_of(taken_down)}", f"/media/{key_of(taken_down)}?w=20"):
        assert (await public.get(url)).status_code == 403
    serve = f"{LIBRARY}/serve-image/{key_of(taken_down)}"
    assert (await api.get(serve)).status_code == 403
    assert (await public.get(f"/media/{key_of(kept)}")).content == picture
    assert (await public.get(f"/media/{key_of(kept)}?w=20")).status_code == 200
    assert (await api.get(f"{LIBRARY}/serve-image/{key_of(kept)}")).content == picture


async def test_a_revoked_entrys_bytes_are_stored_again(importer: Importer, origin: Origin) -> None:
    picture = media.jpeg(73, 59)
    first = await imported(importer, origin.file(path("a.jpg"), picture), "photo-c")
    media_id = first["image"]["mediaId"]
    revoke = {"version": 1, "patches": [{"operation": "revokeAsset"}]}
    assert (await importer.api.patch(f"{LIBRARY}/{media_id}", json=revoke)).status_code == 200

    second = await imported(importer, origin.file(path("b.jpg"), picture), "photo-d")

    assert "duplicateOf" not in second
    assert second["image"]["originalUrl"] != first["image"]["originalUrl"]
    served = str(second["image"]["originalUrl"]).rsplit("/media/", 1)[1]
    assert (await importer.stack.client().get(f"/media/{served}")).status_code == 200


async def test_an_entry_updated_while_revoked_keeps_its_new_bytes_down(
    importer: Importer, origin: Origin
) -> None:
    """Re-running an import with new bytes for a revoked entry updates it: the new object is the
    revoked entry's too, and is not served."""
    first = await imported(importer, origin.file(path("a.jpg"), media.jpeg(83, 61)), "photo-r")
    media_id = first["image"]["mediaId"]
    revoke = {"patches": [{"operation": "revokeAsset"}]}
    assert (await importer.api.patch(f"{LIBRARY}/{media_id}", json=revoke)).status_code == 200

    again = await imported(importer, origin.file(path("b.jpg"), media.jpeg(85, 63)), "photo-r")

    assert again["action"] == "updated"
    assert again["image"]["mediaId"] == media_id
    public = importer.stack.client()
    for url in (f"/media/{key_of(again)}", f"/media/{key_of(again)}?w=20"):
        assert (await public.get(url)).status_code == 403
    serve = f"{LIBRARY}/serve-image/{key_of(again)}"
    assert (await importer.api.get(serve)).status_code == 403
