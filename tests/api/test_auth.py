"""Tokens: missing, wrong, expired, revoked, wrong scope, and another project's entries."""

from __future__ import annotations

import datetime as dt

import pytest

from medialib.auth import tokens
from tests.support.entries import import_entries, stored_image
from tests.support.stack import Stack

IMPORT = "/api/2026-05/import/mediaLibrary"


def _unauthorized(message: str) -> dict[str, object]:
    return {"status": 401, "error": "Unauthorized", "error_details": {"access_token": message}}


async def test_a_request_without_a_token_is_a_401(stack: Stack) -> None:
    response = await stack.client().post(IMPORT, json={"mediaLibraryEntries": []})

    assert response.status_code == 401
    assert response.json() == _unauthorized("An access token is required.")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "mlt_without_scheme"])
async def test_a_malformed_authorization_header_is_a_401(stack: Stack, header: str) -> None:
    response = await stack.client().post(
        IMPORT, json={"mediaLibraryEntries": []}, headers={"Authorization": header}
    )

    assert response.status_code == 401


async def test_an_unknown_token_is_a_401(stack: Stack) -> None:
    response = await stack.client("mlt_not-a-real-token").get("/api/2026-05/mediaLibrary/x")

    assert response.json() == _unauthorized("The access token is invalid.")


async def test_an_expired_token_is_a_401(stack: Stack) -> None:
    token = await stack.token(expires_in=dt.timedelta(microseconds=1))

    response = await stack.client(token).get("/api/2026-05/mediaLibrary/x")

    assert response.status_code == 401
    assert response.json() == _unauthorized("The access token expired.")


async def test_a_revoked_token_is_a_401(stack: Stack) -> None:
    token_id, token = await tokens.create_token(stack.runtime.db, "demo", [tokens.READ])
    await tokens.revoke_token(stack.runtime.db, token_id)

    response = await stack.client(token).get("/api/2026-05/mediaLibrary/x")

    assert response.json() == _unauthorized("The access token was revoked.")


async def test_a_token_that_expires_later_works(stack: Stack, project: str) -> None:
    api = stack.client(await stack.token(project, expires_in=dt.timedelta(days=1)))

    response = await api.get("/api/2026-05/mediaLibrary/x")

    assert response.status_code == 404


async def test_writing_needs_the_write_scope(stack: Stack, project: str) -> None:
    reader = stack.client(await stack.token(project, scopes=(tokens.READ,)))

    response = await reader.post(IMPORT, json={"mediaLibraryEntries": []})

    assert response.status_code == 403
    assert response.json() == {
        "status": 403,
        "error": "Forbidden",
        "error_details": {"access_token": "The request requires higher privileges"},
    }


async def test_reading_needs_the_read_scope(stack: Stack, project: str) -> None:
    writer = stack.client(await stack.token(project, scopes=(tokens.WRITE,)))

    listed = await writer.get("/api/2026-05/mediaLibrary", params={"ids": "x"})
    one = await writer.get("/api/2026-05/mediaLibrary/x")

    assert listed.status_code == one.status_code == 403


async def test_another_projects_entries_do_not_exist_for_a_project(
    stack: Stack, project: str
) -> None:
    owner = await stack.api(project)
    record = await stored_image(stack, owner)
    stranger = await stack.api("other")

    one = await stranger.get(f"/api/2026-05/mediaLibrary/{record['id']}")
    by_ids = await stranger.get("/api/2026-05/mediaLibrary", params={"ids": record["id"]})
    by_pair = await stranger.get(
        "/api/2026-05/mediaLibrary",
        params={"systemName": "archive", "externalId": record["externalId"]},
    )
    patched = await stranger.patch(
        f"/api/2026-05/mediaLibrary/{record['id']}", json={"patches": [{"operation": "archive"}]}
    )

    assert one.status_code == 404
    assert by_ids.json() == {"results": []}
    assert by_pair.json() == {"results": []}
    assert patched.status_code == 404
    assert (await owner.get(f"/api/2026-05/mediaLibrary/{record['id']}")).json() == record


async def test_the_same_id_may_exist_in_two_projects(stack: Stack, project: str) -> None:
    owner = await stack.api(project)
    record = await stored_image(stack, owner)
    stranger = await stack.api("other")
    key = "2026/11/23/other-project-own-asset.jpeg"
    await stack.put_asset(key)

    [result] = await import_entries(
        stranger,
        [
            {
                "id": record["id"],
                "mediaType": "image",
                "asset": {**record["asset"], "key": key},
                "metadata": {},
            }
        ],
    )

    assert result["ok"] is True
