"""INSERT … ON CONFLICT DO NOTHING, spelled for whichever database the connection is on."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.tables import dialect_module


def insert_ignoring_conflicts(conn: Connection | AsyncConnection, table: sa.Table) -> sa.Insert:
    """The dialect's own INSERT (PostgreSQL's and SQLite's both have `on_conflict_do_nothing`)."""
    insert: sa.Insert = dialect_module(conn.dialect).insert(table).on_conflict_do_nothing()
    return insert
