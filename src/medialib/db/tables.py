"""The schema, one set of tables for SQLite and PostgreSQL (Alembic migrates both)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Timestamps in UTC that always come back timezone-aware.

    PostgreSQL keeps them as timestamptz. SQLite has no time type: they are stored as ISO 8601
    text in UTC ('2026-11-23 09:10:16.538000'), which sorts and compares correctly as text and
    which the C-level isoformat/fromisoformat pair converts fast (imports write thousands).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC")
        if dialect.name == "sqlite":
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("handle", sa.String(100), primary_key=True),
    sa.Column("webhook_secret", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "project",
        sa.String(100),
        sa.ForeignKey("projects.handle", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

media_entries = sa.Table(
    "media_entries",
    metadata,
    sa.Column("project", sa.String(100), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("system_name", sa.String(200), nullable=True),
    sa.Column("external_id", sa.String(500), nullable=True),
    sa.Column("asset", JSONType, nullable=False),
    sa.Column("metadata", JSONType, nullable=False),
    sa.Column("translations", JSONType, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False, default=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.Column("revoke_note", sa.String(200), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(["project"], ["projects.handle"], ondelete="CASCADE"),
    sa.UniqueConstraint("project", "system_name", "external_id"),
)

# Every stored object an entry may point at: what it is (for serving it) and whether it may be
# served (a revoked entry's assets are not).
assets = sa.Table(
    "assets",
    metadata,
    sa.Column("key", sa.String(1024), primary_key=True),
    sa.Column("project", sa.String(100), nullable=False),
    sa.Column("mime_type", sa.String(200), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(["project"], ["projects.handle"], ondelete="CASCADE"),
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


Row = dict[str, Any]
