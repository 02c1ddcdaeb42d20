"""Migration 0011 (entries' validity) on a database that has lived under 0010, on both backends:
the entries made before are valid and await no boundary, the search triggers of the embedded
default stay (the columns are added, the table is not rebuilt), and the way back and forward
again works."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from medialib.bootstrap import Runtime
from medialib.db.migrate import current_revision, downgrade, migrate
from medialib.db.tables import JSONType, UTCDateTime, media_entries, projects
from medialib.settings import Settings
from tests.support import postgres
from tests.support.stack import stack_config

NOW = dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC)
# The 0010 schema's entry columns (the model's has more now).
_OLD_ENTRY = sa.table(
    "media_entries",
    *(sa.column(c) for c in ("project", "id", "media_type", "version", "archived", "revoked")),
    *(sa.column(c, JSONType) for c in ("asset", "metadata", "translations")),
    *(sa.column(c, UTCDateTime) for c in ("created_at", "updated_at")),
)


@pytest.fixture
async def at_0010(backend: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A database at 0010 holding one entry."""
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
            _OLD_ENTRY.insert().values(
                project="demo", id="old-entry", media_type="image", asset={"key": "a.jpeg"},
                metadata={"title": "Lighthouse"}, translations=[], version=1, archived=False,
                revoked=False, created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    yield runtime
    await runtime.close()
    if database_url:
        postgres.drop_database(database_url)


async def _columns(runtime: Runtime) -> set[str]:
    async with runtime.db.read() as conn:
        found = await conn.run_sync(lambda sync: sa.inspect(sync).get_columns("media_entries"))
    return {column["name"] for column in found}


async def _triggers(runtime: Runtime) -> set[str]:
    if not runtime.db.is_sqlite:
        return set()
    async with runtime.db.read() as conn:
        rows = await conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        return set(rows.scalars())


async def test_0011_keeps_old_entries_valid_and_goes_back_and_forth(at_0010: Runtime) -> None:
    triggers = await _triggers(at_0010)

    await migrate(at_0010.db, "0011")

    assert await current_revision(at_0010.db) == "0011"
    async with at_0010.db.read() as conn:
        row = (await conn.execute(sa.select(media_entries))).one()
    assert (row.id, row.invalid, row.validity_check_at) == ("old-entry", False, None)
    assert await _triggers(at_0010) == triggers

    await downgrade(at_0010.db, "0010")

    assert await current_revision(at_0010.db) == "0010"
    assert not {"invalid", "validity_check_at"} & await _columns(at_0010)
    assert await _triggers(at_0010) == triggers

    await migrate(at_0010.db, "0011")

    assert {"invalid", "validity_check_at"} <= await _columns(at_0010)
    async with at_0010.db.read() as conn:
        assert (await conn.execute(sa.select(media_entries.c.invalid))).scalars().all() == [False]
