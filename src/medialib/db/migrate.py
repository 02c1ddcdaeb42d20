"""Schema migrations, applied by `medialib migrate` and on start of the embedded default.

`python -m medialib.db.migrate URL` upgrades the database at URL to the head: how a long-running
process migrates without holding alembic afterwards (db/schema.py)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from medialib.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"
# Any number of processes may start at once against one PostgreSQL; one migrates, the others
# wait for it and then find nothing to do.
_MIGRATION_LOCK = 0x6D656469


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(db: Database, revision: str = "head") -> None:
    """Upgrade the schema to `revision`."""
    await _run(db, command.upgrade, revision)


async def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to `revision` (what each migration's downgrade does)."""
    await _run(db, command.downgrade, revision)


async def _run(db: Database, step: Callable[[Config, str], None], revision: str) -> None:
    async with db.write() as conn:
        if not db.is_sqlite:
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        await conn.run_sync(_with_connection, step, revision)


def _with_connection(
    connection: Connection, step: Callable[[Config, str], None], revision: str
) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    step(config, revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(db: Database) -> str | None:
    async with db.read() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )


async def _migrate_url(url: str) -> None:
    db = Database(url)
    try:
        await migrate(db)
    finally:
        await db.close()


if __name__ == "__main__":
    asyncio.run(_migrate_url(sys.argv[1]))
