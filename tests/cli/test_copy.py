"""`medialib copy`: from the embedded default (SQLite, a folder) to PostgreSQL and S3, then the
same API answers the same from the copy; a second run copies nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from medialib.api.app import create_app
from medialib.bootstrap import Runtime
from medialib.settings import Settings
from tests.support import media, postgres
from tests.support.entries import image_entry, import_entries, new_key
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.s3 import MotoS3
from tests.support.server import LiveServer
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.postgres


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[Stack]:
    stack = await start_stack("sqlite", tmp_path / "source")
    yield stack
    await stack.close()


@pytest.fixture
def target_database() -> Iterator[str]:
    url = postgres.create_database("medialib_copy")
    yield url
    postgres.drop_database(url)


def copy(source: Stack, database: str, storage: str, s3: MotoS3) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "medialib.cli",
            "copy",
            "--to-database-url",
            database,
            "--to-storage-url",
            storage,
            "--to-s3-endpoint",
            s3.endpoint,
        ],
        env={**os.environ, "MEDIALIB_HOME": str(source.settings.home)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stderr


async def test_the_copy_serves_what_the_original_served(
    source: Stack, target_database: str, s3_server: MotoS3, origin: Origin, tmp_path: Path
) -> None:
    token = await source.token()
    api = source.client(token)
    key = new_key()
    await source.put_asset(key)
    [synced] = await import_entries(api, [image_entry(key)])
    importer = await Importer.open(source, "demo")
    status, _ = await importer.run([item(origin.file("copy/a.jpg", media.jpeg()), "from-url")])
    revoked_id = status["images"][0]["image"]["mediaId"]
    token_of_referencing = await source.token("referencing")
    referencing = source.client(token_of_referencing)
    named_key, naming_key = new_key(), new_key()
    await source.put_asset(named_key)
    await source.put_asset(naming_key)
    [named] = await import_entries(referencing, [image_entry(named_key)])
    link = {"imageLink": {"mediaId": named["id"]}}
    [naming] = await import_entries(referencing, [image_entry(naming_key, metadata=link)])
    assert naming["ok"], naming
    incoming = f"/api/2026-05/mediaLibrary/{named['id']}/incomingMediaReferences"
    await api.patch(
        f"/api/2026-05/mediaLibrary/{revoked_id}", json={"patches": [{"operation": "revokeAsset"}]}
    )
    # An entry not served for what its metadata says, and one whose window closes later.
    validity = source.client(await source.token("validity"))
    invalid_key, closing_key = new_key(), new_key()
    await source.put_asset(invalid_key)
    await source.put_asset(closing_key)
    invalid, closing = await import_entries(
        validity,
        [
            image_entry(invalid_key, metadata={"title": "Withdrawn", "invalid": True}),
            image_entry(closing_key, metadata={"validity": {"to": "2999-01-01T00:00:00Z"}}),
        ],
    )
    assert invalid["ok"], invalid
    assert closing["ok"], closing
    # An entry whose usage log says where it is used.
    token_of_purposeful = await source.token("purposeful")
    purposeful = source.client(token_of_purposeful)
    logged_key = new_key()
    await source.put_asset(logged_key)
    [logged] = await import_entries(purposeful, [image_entry(logged_key)])
    use = {"operation": "addUsageLogEntry", "value": {"purpose": "print", "documentId": 7}}
    added = await purposeful.patch(
        f"/api/2026-05/mediaLibrary/{logged['id']}", json={"patches": [use]}
    )
    assert added.status_code == 200, added.text
    usage_log = f"/api/2026-05/mediaLibrary/{logged['id']}/usageLog"
    storage_url = f"s3://{s3_server.new_bucket()}/media"

    said = copy(source, target_database, storage_url, s3_server)

    assert "copied" in said
    assert "1 entry awaits a validity window's start or end" in said
    settings = Settings(
        home=tmp_path / "target",
        database_url=target_database,
        storage_url=storage_url,
        s3_endpoint=s3_server.endpoint,
        config=source.settings.config_path,
        public_url="http://media.test/media",
        rendition_url="http://media.test/media",
    )
    server = LiveServer(create_app(runtime=Runtime.from_settings(settings))).start()
    try:
        copied = Stack("postgres", settings, Runtime.from_settings(settings), server)
        same_token = copied.client(token)
        for entry_id in (synced["id"], revoked_id):
            original = await api.get(f"/api/2026-05/mediaLibrary/{entry_id}")
            answer = await same_token.get(f"/api/2026-05/mediaLibrary/{entry_id}")
            assert answer.json() == original.json()
        named_there = await copied.client(token_of_referencing).get(incoming)
        assert named_there.json() == (await referencing.get(incoming)).json()
        assert named_there.json()["results"][0]["id"] == naming["id"]
        logged_there = await copied.client(token_of_purposeful).get(usage_log)
        assert logged_there.status_code == 200, logged_there.text
        assert logged_there.json() == (await purposeful.get(usage_log)).json()
        assert logged_there.json()["results"][0]["documentId"] == 7
        job = await same_token.get("/api/2026-05/import/images/status", params={"id": status["id"]})
        assert job.json() == await importer.status(status["id"])
        served = await copied.client().get(f"/media/{key}")
        assert served.content == media.STORED_JPEG
        revoked_key = (await api.get(f"/api/2026-05/mediaLibrary/{revoked_id}")).json()["asset"][
            "key"
        ]
        assert (await copied.client().get(f"/media/{revoked_key}")).status_code == 403
        assert (await copied.client().get(f"/media/{invalid_key}")).status_code == 403
        assert (await copied.client().get(f"/media/{closing_key}")).status_code == 200
        # The copy revokes as the original does: every URL an entry has had is in its keys.
        revoke = {"patches": [{"operation": "revokeAsset"}]}
        taken_down = await same_token.patch(
            f"/api/2026-05/mediaLibrary/{synced['id']}", json=revoke
        )
        assert taken_down.status_code == 200, taken_down.text
        assert (await copied.client().get(f"/media/{key}")).status_code == 403
        keys = await same_token.get(f"/api/2026-05/mediaLibrary/{synced['id']}/keys")
        assert keys.json()["results"][0] == key
        assert set(s3_server.keys(storage_url.split("/")[2])) == {
            f"media/{key}",
            f"media/{revoked_key}",
            f"media/{invalid_key}",
            f"media/{closing_key}",
            f"media/{named_key}",
            f"media/{naming_key}",
            f"media/{logged_key}",
        }

        again = copy(source, target_database, storage_url, s3_server)

        assert "0 objects (7 were there already)" in again
    finally:
        await copied.close()
        await importer.close()
