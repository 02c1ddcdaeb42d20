"""INSERT … ON CONFLICT DO NOTHING, spelled for whichever database the connection is on."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.tables import dialect_module


def insert_ignoring_conflicts(
    conn: Connection | AsyncConnection, table: sa.Table, returning: sa.Column[str] | None = None
) -> sa.Insert:
    """The dialect's own INSERT (PostgreSQL's and SQLite's both have `on_conflict_do_nothing`),
    returning the `returning` column of the rows it wrote."""
    return _built(conn.dialect.name, table, returning)


@functools.cache
def _built(dialect: str, table: sa.Table, returning: sa.Column[str] | None) -> sa.Insert:
    # Built once: SQLAlchemy keeps a statement's cache key on the statement, and a statement
    # built anew costs its building and its key at every execution (an image import saves a
    # few images at a time, so this was most of the database's time per image).
    insert: sa.Insert = dialect_module(dialect).insert(table).on_conflict_do_nothing()
    return insert if returning is None else insert.returning(returning)
