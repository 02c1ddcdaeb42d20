"""Whether the database holds the schema this medialib needs, read without alembic: a process
starting on a current schema (every start but the first after an upgrade) never loads alembic
and its templates (about 11 MB resident). A long-running process (`serve`, `worker`) that does
find something to migrate has a child process migrate: what alembic and the migrations load
(some 24 MB resident, never given back) stays out of the process that then serves."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import sqlalchemy as sa

from medialib.db.engine import Database
from medialib.errors import ConfigError

# The newest migration's revision (tests/cli/test_start.py checks that alembic agrees).
SCHEMA_HEAD = "0017"


async def schema_revision(db: Database) -> str | None:
    """The revision alembic recorded; None for a database it never migrated."""
    try:
        async with db.read() as conn:
            found = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            return found.scalar()
    except sa.exc.DBAPIError:  # no alembic_version table yet
        return None


async def ensure_schema(db: Database, *, migrate_apart: bool = False) -> None:
    """Migrate the embedded default (in a child process with `migrate_apart`); elsewhere refuse
    to run on an old schema."""
    current = await schema_revision(db)
    if current == SCHEMA_HEAD:
        return
    if db.is_sqlite and migrate_apart:
        await _migrate_in_child(db.url)
        return
    if db.is_sqlite:
        # Imported here: alembic is loaded only when there is something to migrate.
        from medialib.db.migrate import migrate

        await migrate(db)
        return
    raise ConfigError(
        f"the database schema is at {current or 'nothing'}, this medialib needs {SCHEMA_HEAD}: "
        "run `medialib migrate` first"
    )


async def _migrate_in_child(url: str) -> None:
    """`python -m medialib.db.migrate URL`: its error, if any, goes to our standard error as it
    would have from this process, and stops the start."""
    command = [sys.executable, "-m", "medialib.db.migrate", url]
    done = await asyncio.to_thread(subprocess.run, command, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise ConfigError(
            f"the database could not be migrated to {SCHEMA_HEAD} (the migration's error is "
            f"above; exit status {done.returncode})"
        )
