"""Whether the database holds the schema this medialib needs, read without alembic: a process
starting on a current schema (every start but the first after an upgrade) never loads alembic
and its templates (about 11 MB resident)."""

from __future__ import annotations

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


async def ensure_schema(db: Database) -> None:
    """Migrate the embedded default; elsewhere refuse to run on an old schema."""
    current = await schema_revision(db)
    if current == SCHEMA_HEAD:
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
