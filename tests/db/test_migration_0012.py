"""Migration 0012 (the index of references between entries) on a database that has lived under
0010, on both backends: an entry made before takes references that go with it, and the way
back and forward again works."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from medialib.bootstrap import Runtime
from medialib.db.migrate import current_revision, downgrade, migrate
from medialib.db.tables import media_entries, media_references, projects
from medialib.settings import Settings
from tests.support import postgres
from tests.support.stack import stack_config

NOW = dt.datetime(2026, 12, 8, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def at_0010(backend: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A database at 0010 holding two entries."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "medialib.yaml").write_text(yaml.safe_dump(stack_config()))
    database_url = postgres.create_database() if backend == "postgres" else None
    settings = Settings(home=home, database_url=database_url, config=home / "medialib.yaml")
    runtime = Runtime.from_settings(settings)
    await migrate(runtime.db, "0010")
    async with runtime.db.write() as conn:
        await conn.execute(
            projects.insert().values(handle="demo", webhook_secret="s", created_at=NOW)
        )
        await conn.execute(
            media_entries.insert(),
            [
                {
                    "project": "demo", "id": entry_id, "media_type": "image", "system_name": None,
                    "external_id": None, "asset": {"key": f"{entry_id}.jpeg"}, "metadata": {},
                    "translations": [], "version": 1, "archived": False, "revoked": False,
                    "revoke_note": None, "created_at": NOW, "updated_at": NOW,
                }
                for entry_id in ("old-entry", "old-named")
            ],
        )  # fmt: skip
    yield runtime
    await runtime.close()
    if database_url:
        postgres.drop_database(database_url)


def _reference(entry_id: str = "old-entry", target: str = "old-named") -> dict[str, str]:
    return {
        "project": "demo",
        "entry_id": entry_id,
        "property": "imageLink",
        "target_id": target,
        "kind": "mediaImage",
    }


async def _count(runtime: Runtime) -> int:
    async with runtime.db.read() as conn:
        found = await conn.scalar(sa.select(sa.func.count()).select_from(media_references))
        return int(found or 0)


async def test_0012_indexes_references_that_go_with_the_entry_holding_them(
    at_0010: Runtime,
) -> None:
    await migrate(at_0010.db, "0012")
    assert await current_revision(at_0010.db) == "0012"

    async with at_0010.db.write() as conn:
        await conn.execute(
            media_references.insert(), [_reference(), _reference("old-named", "old-entry")]
        )
        # The entry named goes: the reference to it stays, as the metadata holding it does.
        await conn.execute(media_entries.delete().where(media_entries.c.id == "old-named"))
    async with at_0010.db.read() as conn:
        rows = (await conn.execute(sa.select(media_references))).all()
    assert [(row.entry_id, row.target_id) for row in rows] == [("old-entry", "old-named")]

    async with at_0010.db.write() as conn:
        await conn.execute(media_entries.delete().where(media_entries.c.id == "old-entry"))
    assert await _count(at_0010) == 0


async def test_0012_goes_back_and_forth(at_0010: Runtime) -> None:
    await migrate(at_0010.db, "0012")
    async with at_0010.db.write() as conn:
        await conn.execute(media_references.insert(), [_reference()])

    await downgrade(at_0010.db, "0010")

    assert await current_revision(at_0010.db) == "0010"
    async with at_0010.db.read() as conn:
        tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert "media_references" not in tables

    await migrate(at_0010.db, "0012")

    assert await current_revision(at_0010.db) == "0012"
    assert await _count(at_0010) == 0
