"""PATCH /api/{version}/mediaLibrary/{id}: every operation, versions and conflicts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import media
from tests.support.entries import image_asset, new_key, stored_image
from tests.support.stack import Stack


async def _patch(
    api: httpx.AsyncClient,
    entry_id: str,
    *patches: dict[str, Any],
    api_version: str = "2026-05",
    **body: Any,
) -> httpx.Response:
    return await api.patch(
        f"/api/{api_version}/mediaLibrary/{entry_id}", json={"patches": list(patches), **body}
    )


async def _get(api: httpx.AsyncClient, entry_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/2026-05/mediaLibrary/{entry_id}")
    assert response.status_code == 200
    entry: dict[str, Any] = response.json()
    return entry


async def test_set_metadata_property_changes_it_and_bumps_the_version(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(
        api,
        record["id"],
        {"operation": "setMetadataProperty", "propertyName": "caption", "value": "New caption"},
        version="1",
    )

    assert response.status_code == 200
    assert response.json() == {"status": 200}
    entry = await _get(api, record["id"])
    assert entry["metadata"] == {"title": "A picture", "caption": "New caption"}
    assert entry["version"] == 2
    assert entry["updatedAt"] >= record["updatedAt"]


@pytest.mark.parametrize("patch", [{"value": None}, {}])
async def test_a_null_or_absent_value_removes_the_property(
    stack: Stack, project: str, patch: dict[str, Any]
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(
        api, record["id"], {"operation": "setMetadataProperty", "propertyName": "title", **patch}
    )

    assert response.status_code == 200
    assert (await _get(api, record["id"]))["metadata"] == {}


async def test_set_metadata_property_is_validated(stack: Stack) -> None:
    api = await stack.api("typed")
    record = await stored_image(stack, api, metadata={"title": "Typed"})

    wrong_type = await _patch(
        api,
        record["id"],
        {"operation": "setMetadataProperty", "propertyName": "rank", "value": "x"},
    )
    unknown = await _patch(
        api, record["id"], {"operation": "setMetadataProperty", "propertyName": "nope", "value": 1}
    )
    required = await _patch(
        api, record["id"], {"operation": "setMetadataProperty", "propertyName": "title"}
    )

    assert wrong_type.status_code == 400
    assert wrong_type.json()["error_details"] == {
        "patches.0.value": "The value of '/rank' must be integer"
    }
    assert unknown.json()["error_details"] == {
        "patches.0.value": "The metadata must NOT have additional property 'nope'"
    }
    assert required.json()["error_details"] == {
        "patches.0.value": "The metadata must have required property 'title'"
    }
    assert (await _get(api, record["id"]))["version"] == 1


async def test_an_untranslatable_property_is_set_on_the_entry_only(stack: Stack) -> None:
    api = await stack.api("typed")
    record = await stored_image(stack, api, metadata={"title": "Typed"})
    credit = {"operation": "setMetadataProperty", "propertyName": "credit", "value": "Jane"}

    translated = await _patch(api, record["id"], {**credit, "locale": "de"})
    untranslated = await _patch(api, record["id"], credit)

    assert translated.status_code == 400
    assert translated.json()["error_details"] == {
        "patches.0.value": "The value of '/credit' is not translatable"
    }
    assert untranslated.status_code == 200
    entry = await _get(api, record["id"])
    assert entry["metadata"] == {"title": "Typed", "credit": "Jane"}
    assert entry["translations"] == []


async def test_set_metadata_property_with_a_locale_changes_the_translation(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    await _patch(
        api,
        record["id"],
        {
            "operation": "setMetadataProperty",
            "propertyName": "title",
            "value": "Une image",
            "locale": "fr",
        },
    )

    entry = await _get(api, record["id"])
    assert entry["translations"] == [{"locale": "fr", "metadata": {"title": "Une image"}}]
    assert entry["metadata"] == {"title": "A picture"}


async def test_a_stale_version_is_a_409_with_the_documented_message(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    await _patch(api, record["id"], {"operation": "archive"})

    response = await _patch(api, record["id"], {"operation": "archive"}, version=1)

    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "error": "Conflict",
        "error_details": {"name": "Conflict", "message": "Version: Expected 2 to be equal to 1"},
    }


async def test_an_unknown_operation_is_a_400_naming_the_patch(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(
        api, record["id"], {"operation": "archive"}, {"operation": "notExistingOperation"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": "Bad Request",
        "error_details": {"patches.1.operation": 'No enum match for: "notExistingOperation"'},
    }
    assert (await _get(api, record["id"]))["archived"] is False


async def test_patching_an_unknown_id_is_a_404(stack: Stack, project: str) -> None:
    api = await stack.api(project)

    response = await _patch(api, "yLBGtTjWN4ba", {"operation": "archive"})

    assert response.status_code == 404
    assert response.json()["error_details"] == {
        "name": "NotFound",
        "message": "MediaLibrary Entry does not exist (id: 'yLBGtTjWN4ba')",
    }


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({}, {"patches": "Field required"}),
        ({"patches": []}, {"patches": "List should have at least 1 item after validation, not 0"}),
        ({"patches": [{"operation": "archive", "bogus": 1}]}, {"patches.0.bogus": "Extra inputs"}),
        (
            {"patches": [{"operation": "setMetadataProperty"}]},
            {"patches.0.propertyName": "required"},
        ),
        ({"patches": [{"operation": "archive"}], "version": "two"}, {"version": "whole number"}),
    ],
)
async def test_a_malformed_patch_request_is_a_400(
    stack: Stack, project: str, body: dict[str, Any], details: dict[str, str]
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await api.patch(f"/api/2026-05/mediaLibrary/{record['id']}", json=body)

    assert response.status_code == 400
    got = response.json()["error_details"]
    for field, message in details.items():
        assert message in got[field]


async def test_archive_marks_the_entry_archived(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    await _patch(api, record["id"], {"operation": "archive"})

    assert (await _get(api, record["id"]))["archived"] is True


async def test_replace_asset_points_the_entry_at_another_stored_object(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    key = new_key()
    picture = media.jpeg(800, 600)
    await stack.put_asset(key, picture)
    value = image_asset(key, width=800, height=600, size=len(picture))

    response = await _patch(api, record["id"], {"operation": "replaceAsset", "value": value})

    assert response.status_code == 200
    asset = (await _get(api, record["id"]))["asset"]
    assert asset["key"] == key
    assert asset["width"] == 800
    served = await stack.client().get(f"/media/{key}")
    assert served.content == picture


async def test_replace_asset_needs_the_object_in_storage(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    missing = new_key()

    response = await _patch(
        api, record["id"], {"operation": "replaceAsset", "value": image_asset(missing)}
    )

    assert response.status_code == 400
    assert response.json()["error_details"] == {
        "patches.0.value.key": f"no stored object at '{missing}'"
    }


async def test_replace_asset_checks_the_shape_for_the_media_type(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    key = new_key()
    await stack.put_asset(key)

    response = await _patch(
        api, record["id"], {"operation": "replaceAsset", "value": image_asset(key, width=None)}
    )

    assert response.status_code == 400
    assert response.json()["error_details"] == {"patches.0.value.width": "Field required"}


async def test_remove_asset_removes_a_translations_asset_only(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    translated = new_key()
    await stack.put_asset(translated)
    record = await stored_image(
        stack,
        api,
        translations=[{"locale": "fr", "metadata": {}, "asset": image_asset(translated)}],
    )

    default = await _patch(api, record["id"], {"operation": "removeAsset"})
    other_locale = await _patch(api, record["id"], {"operation": "removeAsset", "locale": "de"})
    french = await _patch(api, record["id"], {"operation": "removeAsset", "locale": "fr"})

    assert default.status_code == 400
    assert default.json()["error_details"] == {
        "patches.0.locale": "The default locale asset cannot be removed"
    }
    assert other_locale.status_code == 400
    assert french.status_code == 200
    entry = await _get(api, record["id"])
    assert entry["translations"] == [{"locale": "fr", "metadata": {}}]
    assert entry["asset"]["key"] == record["asset"]["key"]


async def test_revoke_hides_the_assets_and_unrevoke_brings_them_back(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    media = stack.client()
    key = record["asset"]["key"]
    assert (await media.get(f"/media/{key}")).status_code == 200

    revoked = await _patch(api, record["id"], {"operation": "revokeAsset", "note": "Case #1"})

    assert revoked.status_code == 200
    entry = await _get(api, record["id"])
    assert entry["revoked"] is True
    assert entry["revokeNote"] == "Case #1"
    hidden = await media.get(f"/media/{key}")
    assert hidden.status_code == 403
    assert hidden.json()["error_details"] == {
        "message": "The requested asset is revoked or marked as invalid."
    }

    back = await _patch(api, record["id"], {"operation": "unrevokeAsset"})

    assert back.status_code == 200
    assert (await _get(api, record["id"]))["revoked"] is False
    assert (await media.get(f"/media/{key}")).status_code == 200


async def test_revoking_twice_is_a_conflict_from_2026_01_and_a_no_op_before(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)
    await _patch(api, record["id"], {"operation": "revokeAsset", "note": "first"})

    old = await _patch(api, record["id"], {"operation": "revokeAsset"}, api_version="2025-11")
    new = await _patch(api, record["id"], {"operation": "revokeAsset"}, api_version="2026-01")

    assert old.status_code == 200
    assert new.status_code == 409
    assert new.json()["error_details"] == {
        "name": "Conflict",
        "message": f"MediaLibrary Entry is already revoked (id: '{record['id']}')",
    }
    assert (await _get(api, record["id"]))["revokeNote"] == "first"


async def test_unrevoking_a_live_entry_is_a_conflict(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(api, record["id"], {"operation": "unrevokeAsset"})

    assert response.status_code == 409


async def test_what_a_version_lacks_is_refused_by_name(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    preserve = await _patch(
        api, record["id"], {"operation": "archive"}, api_version="2026-01", preserveUpdatedAt=True
    )
    usage = await _patch(
        api,
        record["id"],
        {"operation": "addUsageLogEntry", "value": {"purpose": "print"}},
        api_version="2026-03",
    )

    assert preserve.json()["error_details"] == {
        "preserveUpdatedAt": "not available before API version 2026-03"
    }
    assert usage.json()["error_details"] == {
        "patches.0.operation": 'No enum match for: "addUsageLogEntry"'
    }
    assert (await _get(api, record["id"]))["version"] == 1


@pytest.mark.parametrize("api_version", ["v1", "beta", "2025-03", "2025-11"])
async def test_unrevoke_and_the_revoke_note_are_on_every_version(
    stack: Stack, project: str, api_version: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    revoked = await _patch(
        api, record["id"], {"operation": "revokeAsset", "note": "Case #2"}, api_version=api_version
    )
    noted = await _get(api, record["id"])
    unrevoked = await _patch(
        api, record["id"], {"operation": "unrevokeAsset"}, api_version=api_version
    )
    # Before 2026-01 unrevoking a live entry (like revoking a revoked one) is a no-op.
    again = await _patch(api, record["id"], {"operation": "unrevokeAsset"}, api_version=api_version)

    assert revoked.status_code == 200, revoked.text
    assert noted["revoked"] is True
    assert noted["revokeNote"] == "Case #2"
    assert unrevoked.status_code == 200, unrevoked.text
    assert again.status_code == 200, again.text
    entry = await _get(api, record["id"])
    assert entry["revoked"] is False
    assert "revokeNote" not in entry or entry["revokeNote"] is None


async def test_a_revoke_note_longer_than_200_characters_is_refused(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(api, record["id"], {"operation": "revokeAsset", "note": "n" * 201})

    assert response.status_code == 400
    assert "patches.0.note" in response.json()["error_details"]


async def test_preserve_updated_at_keeps_the_timestamp(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(
        api, record["id"], {"operation": "archive"}, api_version="2026-03", preserveUpdatedAt=True
    )

    assert response.status_code == 200
    entry = await _get(api, record["id"])
    assert entry["updatedAt"] == record["updatedAt"]
    assert entry["version"] == 2


async def test_patches_apply_all_or_nothing(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await _patch(
        api,
        record["id"],
        {"operation": "setMetadataProperty", "propertyName": "caption", "value": "kept?"},
        {"operation": "setMetadataProperty", "propertyName": "caption", "value": 12},
    )

    assert response.status_code == 400
    entry = await _get(api, record["id"])
    assert entry["metadata"] == {"title": "A picture"}
    assert entry["version"] == 1
