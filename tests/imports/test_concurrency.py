"""Two imports of the same (systemName, externalId) at the same moment leave one entry, and
both say what happened to it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin


@pytest.mark.parametrize(
    ("second_metadata", "second_action"),
    [({"caption": "same"}, "unchanged"), ({"caption": "other"}, "updated")],
    ids=["same-request", "changed-request"],
)
async def test_racing_imports_of_one_pair_leave_one_entry(
    importer: Importer, origin: Origin, second_metadata: dict[str, Any], second_action: str
) -> None:
    # Both downloads are held until both have arrived: each job believes the pair is new.
    url = origin.together(f"{uuid.uuid4().hex}/race.jpg", media.jpeg(), parties=2)
    external_id = f"race-{uuid.uuid4().hex[:8]}"
    first = await importer.start([item(url, external_id, metadata={"caption": "same"})])
    second = await importer.start([item(url, external_id, metadata=second_metadata)])

    await importer.receiver.delivered()
    await importer.receiver.delivered()
    statuses = await asyncio.gather(importer.settled(first), importer.settled(second))

    results = [status["images"][0] for status in statuses]
    assert sorted(r["action"] for r in results) == sorted(["created", second_action])
    assert len({r["image"]["mediaId"] for r in results}) == 1
    listed = await importer.api.get(
        "/api/2026-05/mediaLibrary", params={"systemName": "archive", "externalId": external_id}
    )
    [entry] = listed.json()["results"]
    assert entry["id"] == results[0]["image"]["mediaId"]
    expected_version = 1 if second_action == "unchanged" else 2
    assert entry["version"] == expected_version
