"""Content dedupe (issue 12, item 5): bytes a project stores already are not stored again; the
item says which entry it duplicates, and the object lives until its last entry is deleted."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from medialib.db.tables import media_entries, utcnow
from medialib.errors import Conflict
from medialib.library.repository import Imported, save_imported
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


async def test_the_same_bytes_under_another_id_share_one_object(
    importer: Importer, origin: Origin
) -> None:
    picture = media.jpeg(71, 53)
    first = await imported(importer, origin.file(path("a.jpg"), picture), "photo-a")
    second = await imported(importer, origin.file(path("b.jpg"), picture), "photo-b")

    assert "duplicateOf" not in first
    assert second["duplicateOf"] == first["image"]["mediaId"]
    assert second["image"]["mediaId"] != first["image"]["mediaId"]
    assert second["image"]["originalUrl"] == first["image"]["originalUrl"]
    key = str(first["image"]["originalUrl"]).rsplit("/media/", 1)[1]
    storage = importer.stack.runtime.storage

    deleted = await importer.api.delete(f"{LIBRARY}/{first['image']['mediaId']}")
    assert deleted.status_code == 200
    assert (await importer.stack.client().get(f"/media/{key}")).status_code == 200
    assert await storage.head(key) is not None

    assert (await importer.api.delete(f"{LIBRARY}/{second['image']['mediaId']}")).status_code == 200
    async with asyncio.timeout(30):  # a task deletes it; storage is the only witness
        while await storage.head(key) is not None:
            await asyncio.sleep(0.02)


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


async def test_an_object_released_meanwhile_is_not_taken_up(
    importer: Importer, origin: Origin, project: str
) -> None:
    """The race a dedupe can lose: the entry whose bytes an item found is deleted (its object
    released) before the item is recorded. Recording refuses, so the chunk's items are worked
    again, and nothing points at an object that is being deleted."""
    first = await imported(importer, origin.file(path("a.jpg"), media.jpeg(75, 61)), "photo-e")
    found = first["image"]
    key = str(found["originalUrl"]).rsplit("/media/", 1)[1]
    asset = {"key": key, "mimeType": "image/jpeg", "width": 75, "height": 61, "size": 1}
    assert (await importer.api.delete(f"{LIBRARY}/{found['mediaId']}")).status_code == 200
    late = Imported(
        external_id="photo-f",
        media_type="image",
        asset=asset,
        metadata={},
        fingerprint="f" * 64,
        now=utcnow(),
        new_asset=False,
        duplicate_of=found["mediaId"],
    )
    db = importer.stack.runtime.db

    with pytest.raises(Conflict):
        await db.transact(lambda tx: save_imported(tx, project, "archive", [late]))
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(media_entries.c.id).where(media_entries.c.external_id == "photo-f")
        )
        assert rows.all() == []
