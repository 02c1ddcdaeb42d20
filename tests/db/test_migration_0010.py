"""Migration 0010 (usage logs) on a database that has lived under 0009, on both backends: the
entries made before keep their rows and take usage log entries, which go with their entry; and
the way back and forward again works."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from medialib.bootstrap import Runtime
from medialib.db.migrate import current_revision, downgrade, migrate
from medialib.db.tables import media_entries, projects, usage_log_entries
from medialib.settings import Settings
from tests.support import postgres
from tests.support.stack import stack_config

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def at_0009(backend: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A database at 0009 holding one entry."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "medialib.yaml").write_text(yaml.safe_dump(stack_config()))
    database_url = postgres.create_database() if backend == "postgres" else None
    settings = Settings(home=home, database_url=database_url, config=home / "medialib.yaml")
    runtime = Runtime.from_settings(settings)
    await migrate(runtime.db, "0009")
    async with runtime.db.write() as conn:
        await conn.execute(
            projects.insert().values(handle="demo", webhook_secret="s", created_at=NOW)
        )
        await conn.execute(
            media_entries.insert().values(
                project="demo", id="old-entry", media_type="image", system_name=None,
                external_id=None, asset={"key": "a.jpeg"}, metadata={}, translations=[],
                version=1, archived=False, revoked=False, revoke_note=None, created_at=NOW,
                updated_at=NOW,
            )
        )  # fmt: skip
    yield runtime
    await runtime.close()
    if database_url:
        postgres.drop_database(database_url)


def _usage(usage_id: str) -> dict[str, object]:
    return {
        "project": "demo", "entry_id": "old-entry", "id": usage_id, "state": "confirmed",
        "purpose": "print", "url": None, "params": {"page": 3}, "document_id": 2**53 - 1,
        "publication_id": None, "reporting_date": NOW, "publication_date": NOW,
    }  # fmt: skip


async def _count(runtime: Runtime, table: sa.Table) -> int:
    async with runtime.db.read() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def test_0010_gives_old_entries_a_usage_log_that_goes_with_them(at_0009: Runtime) -> None:
    await migrate(at_0009.db, "0010")
    assert await current_revision(at_0009.db) == "0010"

    async with at_0009.db.write() as conn:
        await conn.execute(usage_log_entries.insert(), [_usage("u1"), _usage("u2")])
    async with at_0009.db.read() as conn:
        row = (await conn.execute(sa.select(usage_log_entries).limit(1))).one()
    assert row.params == {"page": 3}
    assert row.document_id == 2**53 - 1
    assert row.reporting_date == NOW

    async with at_0009.db.write() as conn:
        await conn.execute(media_entries.delete().where(media_entries.c.id == "old-entry"))
    assert await _count(at_0009, usage_log_entries) == 0


async def test_0010_goes_back_and_forth(at_0009: Runtime) -> None:
    await migrate(at_0009.db, "0010")
    async with at_0009.db.write() as conn:
        await conn.execute(usage_log_entries.insert(), [_usage("u1")])

    await downgrade(at_0009.db, "0009")

    assert await current_revision(at_0009.db) == "0009"
    async with at_0009.db.read() as conn:
        tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert "usage_log_entries" not in tables
    assert await _count(at_0009, media_entries) == 1

    await migrate(at_0009.db, "0010")

    assert await current_revision(at_0009.db) == "0010"
    assert await _count(at_0009, usage_log_entries) == 0
