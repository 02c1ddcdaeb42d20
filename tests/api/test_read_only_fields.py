"""What the API shows of an entry and medialib keeps itself, sent back to
`POST /import/mediaLibrary`: taken, but never trusted. Wrong types and huge values are a 400
naming the field; a sha256 must be the object's; a URL, a codec, a storage, a version or a time
sent changes nothing medialib serves or says; `revoked: false` never unrevokes."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from tests.support import media
from tests.support.entries import (
    STORED_MP4,
    image_asset,
    image_entry,
    import_entries,
    new_key,
    unique,
    video_asset,
)
from tests.support.stack import Stack

JPEG_SHA256 = hashlib.sha256(media.STORED_JPEG).hexdigest()
OTHER_SHA256 = hashlib.sha256(b"other bytes").hexdigest()


async def _registered(
    stack: Stack, api: httpx.AsyncClient, entry: dict[str, Any]
) -> dict[str, Any]:
    await stack.put_asset(entry["asset"]["key"])
    [result] = await import_entries(api, [entry])
    return result


def _refused_at(result: dict[str, Any], field: str) -> str:
    """The message of a per-entry 400 that names `field`."""
    assert result["ok"] is False, result
    assert (result["status"], result["error"]) == (400, "ValidationError"), result
    messages = {e["property"]: str(e["message"]) for e in result["error_details"]["errors"]}
    assert field in messages, result
    return messages[field]


@pytest.mark.parametrize(
    ("asset_changes", "field"),
    [
        ({"sha256": 12}, "asset.sha256"),
        ({"sha256": "z" * 64}, "asset.sha256"),
        ({"sha256": JPEG_SHA256.upper()}, "asset.sha256"),
        ({"sha256": JPEG_SHA256[:63]}, "asset.sha256"),
        ({"sha256": "a" * 100_000}, "asset.sha256"),
        ({"url": 12}, "asset.url"),
        ({"url": "https://x.example/" + "h" * 5000}, "asset.url"),
        ({"originalUrl": ["https://x.example/a.jpeg"]}, "asset.originalUrl"),
        ({"imageService": {"name": "imgix"}}, "asset.imageService"),
        ({"imageService": "i" * 101}, "asset.imageService"),
        ({"videoCodec": {"codec": "h264"}}, "asset.videoCodec"),
        ({"videoCodec": "h" * 10_000}, "asset.videoCodec"),
        ({"audioCodec": 44100}, "asset.audioCodec"),
        ({"storage": 3}, "asset.storage"),
        ({"storage": ["s3", "bucket"]}, "asset.storage"),
        ({"storage": "s" * 201}, "asset.storage"),
        ({"storage": {f"k{i}": "v" for i in range(21)}}, "asset.storage"),
        ({"storage": {"bucket": {"name": "nested"}}}, "asset.storage"),
        ({"storage": {"bucket": "b" * 201}}, "asset.storage"),
    ],
)
async def test_a_read_only_asset_field_of_the_wrong_shape_is_a_400_naming_it(
    stack: Stack, project: str, asset_changes: dict[str, Any], field: str
) -> None:
    api = await stack.api(project)
    key = new_key()

    result = await _registered(
        stack, api, image_entry(key, asset=image_asset(key, **asset_changes))
    )

    _refused_at(result, field)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"version": "x"}, "version"),
        ({"version": True}, "version"),
        ({"version": -1}, "version"),
        ({"version": 2**60}, "version"),
        ({"version": "9" * 5000}, "version"),
        ({"revoked": "false"}, "revoked"),
        ({"revoked": 0}, "revoked"),
        ({"archived": "yes"}, "archived"),
        ({"revokeNote": "n" * 201}, "revokeNote"),
        ({"revokeNote": 5}, "revokeNote"),
        ({"createdAt": 12}, "createdAt"),
        ({"updatedAt": "2020-12-27T09:19:00.928Z" * 100}, "updatedAt"),
        ({"translations": [{"locale": "DE", "metadata": {}}]}, "translations.0.locale"),
        ({"translations": [{"locale": "d", "metadata": {}}]}, "translations.0.locale"),
        ({"translations": [{"locale": "de_CH", "metadata": {}}]}, "translations.0.locale"),
        ({"translations": [{"locale": "de\n", "metadata": {}}]}, "translations.0.locale"),
        ({"translations": [{"locale": "<script>", "metadata": {}}]}, "translations.0.locale"),
        ({"translations": [{"locale": "d" + "e" * 35, "metadata": {}}]}, "translations.0.locale"),
        ({"translations": [{"locale": "dé", "metadata": {}}]}, "translations.0.locale"),
        ({"translations": [{"locale": 7, "metadata": {}}]}, "translations.0.locale"),
    ],
)
async def test_a_read_only_entry_field_or_locale_of_the_wrong_shape_is_a_400_naming_it(
    stack: Stack, project: str, changes: dict[str, Any], field: str
) -> None:
    api = await stack.api(project)

    result = await _registered(stack, api, image_entry(new_key(), **changes))

    _refused_at(result, field)


async def test_a_sha256_that_is_not_the_object_s_is_a_400_with_both(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key = new_key()

    result = await _registered(
        stack, api, image_entry(key, asset=image_asset(key, sha256=OTHER_SHA256))
    )

    message = _refused_at(result, "asset.sha256")
    assert message == (
        f"is {OTHER_SHA256}, but the stored object's bytes have sha256 {JPEG_SHA256}"
    )


async def test_a_sha256_is_checked_against_what_medialib_recorded_of_the_object(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key = new_key()
    first = await _registered(
        stack, api, image_entry(key, asset=image_asset(key, sha256=JPEG_SHA256))
    )
    # The bytes change under the key (an operator's mistake): the record still says the first.
    await stack.put_asset(key, media.STORED_JPEG[:-1] + b"\0")
    sharing = image_entry(key, asset=image_asset(key, sha256=OTHER_SHA256, shared=True))
    [second] = await import_entries(api, [sharing])

    assert first["ok"] is True
    assert first["record"]["asset"]["sha256"] == JPEG_SHA256
    assert _refused_at(second, "asset.sha256").startswith(f"is {OTHER_SHA256}, but")
    assert JPEG_SHA256 in _refused_at(second, "asset.sha256")


async def test_a_translation_s_sha256_is_checked_too(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key, translated = new_key(), new_key()
    await stack.put_asset(translated)
    entry = image_entry(
        key,
        translations=[
            {"locale": "fr", "metadata": {}, "asset": image_asset(translated, sha256=OTHER_SHA256)}
        ],
    )

    result = await _registered(stack, api, entry)

    _refused_at(result, "translations.0.asset.sha256")


async def test_urls_sent_are_not_where_the_asset_is_served_from(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    elsewhere = "https://evil.example/steal.jpeg"
    asset = image_asset(key, url=elsewhere, originalUrl=elsewhere, imageService="evil")

    result = await _registered(stack, api, image_entry(key, asset=asset))
    read = (await api.get(f"/api/2026-05/mediaLibrary/{result['id']}")).json()
    served = await stack.client().get(f"/media/{key}")

    assert result["ok"] is True, result
    assert read["asset"]["url"] == f"http://media.test/media/{key}?auto=format"
    assert read["asset"]["originalUrl"] == f"http://media.test/media/{key}"
    assert "imageService" not in read["asset"]
    assert "evil" not in str(read)
    assert served.status_code == 200
    assert served.content == media.STORED_JPEG


async def test_a_video_s_poster_urls_and_codecs_sent_are_ignored(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key, poster = new_key("mp4"), new_key()
    await stack.put_asset(key, STORED_MP4)
    await stack.put_asset(poster)
    asset = video_asset(key, poster, videoCodec="evil", audioCodec="evil", storage="s3")
    asset["poster"] |= {"url": "https://evil.example/p.jpeg", "storage": {"bucket": "x"}}
    entry = {"mediaType": "video", "asset": asset, "metadata": {"title": "A clip"}}

    [result] = await import_entries(api, [entry])

    assert result["ok"] is True, result
    record = result["record"]
    assert "evil" not in str(record)
    assert "storage" not in str(record)
    assert record["asset"]["poster"]["url"] == f"http://media.test/media/{poster}?auto=format"
    assert (await stack.client().get(f"/media/{poster}")).status_code == 200


async def test_the_original_s_storage_is_taken_and_ignored(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    as_string, as_object = new_key(), new_key()
    storage = {"provider": "s3", "bucket": "livingdocs-images", "region": "eu-central-1"}

    made = [
        await _registered(
            stack, api, image_entry(as_string, asset=image_asset(as_string, storage="s3"))
        ),
        await _registered(
            stack, api, image_entry(as_object, asset=image_asset(as_object, storage=storage))
        ),
    ]

    assert all(result["ok"] for result in made), made
    assert all("storage" not in result["record"]["asset"] for result in made)


async def test_a_right_sha256_is_kept(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()

    result = await _registered(
        stack, api, image_entry(key, asset=image_asset(key, sha256=JPEG_SHA256))
    )
    read = (await api.get(f"/api/2026-05/mediaLibrary/{result['id']}")).json()

    assert read["asset"]["sha256"] == JPEG_SHA256


async def test_version_and_times_sent_are_the_new_entry_s_own(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    old = "1999-01-01T00:00:00.000Z"
    entry = image_entry(key, version=99, createdAt=old, updatedAt=old)

    result = await _registered(stack, api, entry)

    assert result["ok"] is True, result
    record = result["record"]
    assert record["version"] == 1
    assert record["createdAt"] != old
    assert record["updatedAt"] != old


async def test_locales_the_original_takes_are_taken(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    locales = ["de", "de-CH", "zh-Hant-TW", "i-klingon", "deCH", "es-419"]
    entry = image_entry(
        new_key(), translations=[{"locale": loc, "metadata": {"title": loc}} for loc in locales]
    )

    result = await _registered(stack, api, entry)

    assert result["ok"] is True, result
    assert [t["locale"] for t in result["record"]["translations"]] == locales


async def test_a_revoked_entry_s_copy_is_registered_revoked_and_not_served(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key = new_key()
    entry = image_entry(key, revoked=True, revokeNote="Case #7", archived=True)

    result = await _registered(stack, api, entry)
    read = (await api.get(f"/api/2026-05/mediaLibrary/{result['id']}")).json()
    served = await stack.client().get(f"/media/{key}")
    proxied = await api.get(f"/api/2026-05/mediaLibrary/serve-image/{key}")

    assert result["ok"] is True, result
    assert (read["revoked"], read["revokeNote"], read["archived"]) == (True, "Case #7", True)
    assert served.status_code == 403
    assert proxied.status_code == 403


async def test_revoked_false_never_unrevokes(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    made = await _registered(stack, api, image_entry(key))
    entry_id = made["record"]["id"]
    revoke = {"operation": "revokeAsset", "note": "rights"}
    revoked = await api.patch(f"/api/2026-05/mediaLibrary/{entry_id}", json={"patches": [revoke]})
    read = (await api.get(f"/api/2026-05/mediaLibrary/{entry_id}")).json()
    live = read | {"revoked": False, "archived": False, "revokeNote": None}
    live = {name: value for name, value in live.items() if value is not None}
    sharing = image_entry(key, revoked=False, asset=image_asset(key, shared=True))

    [again] = await import_entries(api, [live])
    [shared] = await import_entries(api, [sharing])
    after = (await api.get(f"/api/2026-05/mediaLibrary/{entry_id}")).json()
    served = await stack.client().get(f"/media/{key}")

    assert revoked.status_code == 200
    assert (again["status"], again["error"]) == (409, "UniqueIdViolation")
    assert shared["ok"] is True
    assert shared["record"]["revoked"] is False
    assert after == read  # still revoked, its note kept, its version unchanged
    assert served.status_code == 403  # a shared object is down while any of its entries is


async def _replace_asset(
    api: httpx.AsyncClient, entry_id: str, value: dict[str, Any]
) -> httpx.Response:
    return await api.patch(
        f"/api/2026-05/mediaLibrary/{entry_id}",
        json={"patches": [{"operation": "replaceAsset", "value": value}]},
    )


async def test_replace_asset_keeps_a_right_sha256_and_ignores_other_read_only_fields(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    made = await _registered(stack, api, image_entry(new_key()))
    key = new_key()
    await stack.put_asset(key)
    value = image_asset(key, sha256=JPEG_SHA256, storage="s3", url="https://evil.example/x")

    patched = await _replace_asset(api, made["id"], value)
    read = (await api.get(f"/api/2026-05/mediaLibrary/{made['id']}")).json()

    assert patched.status_code == 200, patched.text
    assert read["asset"]["key"] == key
    assert read["asset"]["sha256"] == JPEG_SHA256
    assert "storage" not in read["asset"]
    assert read["asset"]["originalUrl"] == f"http://media.test/media/{key}"


async def test_replace_asset_with_a_sha256_not_the_object_s_is_a_400_and_changes_nothing(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    made = await _registered(stack, api, image_entry(new_key()))
    before = (await api.get(f"/api/2026-05/mediaLibrary/{made['id']}")).json()
    key = new_key()
    await stack.put_asset(key)

    patched = await _replace_asset(api, made["id"], image_asset(key, sha256=OTHER_SHA256))
    after = (await api.get(f"/api/2026-05/mediaLibrary/{made['id']}")).json()

    assert patched.status_code == 400, patched.text
    assert patched.json()["error_details"] == {
        "patches.0.value.sha256": (
            f"is {OTHER_SHA256}, but the stored object's bytes have sha256 {JPEG_SHA256}"
        )
    }
    assert after == before


async def test_unique_is_still_unique(stack: Stack, project: str) -> None:
    """A read entry's systemName and externalId, under another id, are a 409 as before."""
    api = await stack.api(project)
    made = await _registered(stack, api, image_entry(new_key()))
    read = (await api.get(f"/api/2026-05/mediaLibrary/{made['id']}")).json()

    [result] = await import_entries(api, [read | {"id": unique("other")}])

    assert (result["status"], result["error"]) == (409, "UniqueIdViolation")
    assert "externalId is not unique" in result["error_details"]["message"]


async def test_a_sha256_tells_nothing_of_another_project_s_object(
    stack: Stack, project: str
) -> None:
    api, theirs = await stack.api(project), await stack.api("other")
    key = new_key()
    made = await _registered(
        stack, api, image_entry(key, asset=image_asset(key, sha256=JPEG_SHA256))
    )
    probe = image_entry(key, asset=image_asset(key, sha256=OTHER_SHA256, shared=True))

    response = await theirs.post(
        "/api/2026-05/import/mediaLibrary", json={"mediaLibraryEntries": [probe]}
    )

    assert made["ok"] is True
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert _refused_at(result, "asset.key") == f"no stored object at '{key}'"
    assert JPEG_SHA256 not in response.text
