"""The schema, one set of tables for SQLite and PostgreSQL (Alembic migrates both)."""

from __future__ import annotations

import datetime as dt
import importlib
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


def dialect_module(name: str) -> ModuleType:
    """`sqlalchemy.dialects.<name>` of the database a connection is on (`dialect.name`), for
    what only that dialect spells (JSONB, ON CONFLICT). It is loaded already, with the
    connection; naming the other dialect at the top of a module would load it too (PostgreSQL's
    costs 2 MB on SQLite)."""
    return importlib.import_module(f"sqlalchemy.dialects.{name}")


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

    # The last time written as text, with its text: a batch binds one `now` to thousands of
    # rows, and a tuple is replaced whole, so writer threads never see half of one.
    _last_text: tuple[dt.datetime | None, str] = (None, "")

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC")
        if dialect.name != "sqlite":
            return value
        last, text = self._last_text
        if value is not last:
            text = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            self._last_text = (value, text)
        return text

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class JSONType(sa.TypeDecorator[Any]):
    """JSON values: JSONB on PostgreSQL, JSON text on SQLite."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(dialect_module(dialect.name).JSONB())
        return dialect.type_descriptor(sa.JSON())


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
    # What the last URL import asked for (url, fileName, metadata, media type), hashed: the same
    # request again is skipped without a download.
    sa.Column("import_fingerprint", sa.String(64), nullable=True),
    # Marked invalid (`li-invalid`) or outside its validity (`li-datetime-validity`), as
    # library/validity.py last found it: its objects are not served, as a revoked entry's
    # (migration 0011). `validity_check_at`: the window boundary a task looks again at.
    sa.Column("invalid", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("validity_check_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(["project"], ["projects.handle"], ondelete="CASCADE"),
    sa.UniqueConstraint("project", "system_name", "external_id"),
    # Browsing newest first, alone and by media type or system name; changes since a time.
    sa.Index("ix_media_entries_project_created_at", "project", "created_at", "id"),
    sa.Index("ix_media_entries_project_media_type", "project", "media_type", "created_at", "id"),
    sa.Index("ix_media_entries_project_system_name", "project", "system_name", "created_at", "id"),
    sa.Index("ix_media_entries_project_updated_at", "project", "updated_at"),
    # Searching (migration 0006, outside this model): PostgreSQL's generated tsvector column
    # `search`, SQLite's FTS5 table `entry_search` (rowid = the entry's rowid).
)

# Every stored object an entry may point at: what it is (for serving it) and whether it may be
# served (`revoked`: not while an entry that holds it is revoked or invalid).
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
    # Let go of by its last entry: never served or taken up again, and still its project's
    # until a task has deleted its bytes (then the row goes too).
    sa.Column("released_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(["project"], ["projects.handle"], ondelete="CASCADE"),
    # The object already holding some bytes (an import of the same bytes reuses it).
    sa.Index("ix_assets_project_sha256", "project", "sha256"),
)

# Upload URLs handed out whose object is not registered yet: the key is the asking project's,
# and no other project may register it (migration 0008). Registering it removes the row.
uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("key", sa.String(1024), primary_key=True),
    sa.Column("project", sa.String(100), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(["project"], ["projects.handle"], ondelete="CASCADE"),
)


# Every key an entry has pointed at, now or before (replaced assets, translations' assets,
# posters): what a CDN in front of medialib must purge when the entry changes. Rows are added
# when an entry takes a key and never rewritten.
entry_keys = sa.Table(
    "entry_keys",
    metadata,
    sa.Column("project", sa.String(100), primary_key=True),
    sa.Column("entry_id", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(1024), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["project", "entry_id"],
        ["media_entries.project", "media_entries.id"],
        ondelete="CASCADE",
    ),
    # The entries that refer to an object: it is served while one of them is not revoked,
    # and deleted when the last of them is.
    sa.Index("ix_entry_keys_project_key", "project", "key"),
)

# An entry's usage log: where and when it was (or is to be) published, as callers report it
# with PATCH (migration 0010). Rows go with their entry.
usage_log_entries = sa.Table(
    "usage_log_entries",
    metadata,
    sa.Column("project", sa.String(100), primary_key=True),
    sa.Column("entry_id", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("state", sa.String(10), nullable=False),  # library.usage_log.UsageState
    sa.Column("purpose", sa.String(100), nullable=False),
    sa.Column("url", sa.String(2048), nullable=True),
    sa.Column("params", JSONType, nullable=False),
    sa.Column("document_id", sa.BigInteger, nullable=True),
    sa.Column("publication_id", sa.BigInteger, nullable=True),
    sa.Column("reporting_date", UTCDateTime, nullable=False),
    sa.Column("publication_date", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(
        ["project", "entry_id"],
        ["media_entries.project", "media_entries.id"],
        ondelete="CASCADE",
    ),
    # The documents that use an entry (incomingDocumentReferences), by document id.
    sa.Index(
        "ix_usage_log_entries_project_entry_id_document_id", "project", "entry_id", "document_id"
    ),
)

# What entries' metadata names of other entries of their project (li-image, li-poster-image,
# li-video-reference: library/references.py), one row per (entry, property, entry named, kind
# named), written in the transaction that writes the metadata (migration 0012). An entry's rows
# go with it; rows naming a deleted entry stay, as the metadata holding them does.
media_references = sa.Table(
    "media_references",
    metadata,
    sa.Column("project", sa.String(100), primary_key=True),
    sa.Column("entry_id", sa.String(32), primary_key=True),
    sa.Column("property", sa.String(100), primary_key=True),
    sa.Column("target_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),  # library.media_kinds.MediaKind
    sa.ForeignKeyConstraint(
        ["project", "entry_id"],
        ["media_entries.project", "media_entries.id"],
        ondelete="CASCADE",
    ),
    # The entries that name an entry (incomingMediaReferences), in the order of their ids.
    sa.Index("ix_media_references_project_target_id", "project", "target_id", "entry_id"),
)

# Each analysed image's (or video poster's) perceptual hash, for near-duplicates within a
# project (library/similar.py, migration 0016). Multi-index hashing: the 64 bits in four bands
# of 16, each band indexed; a lookup asks for band values within a few bits of the picture's
# and checks the whole hash's distance on the few rows found. An entry's row goes with it.
perceptual_hashes = sa.Table(
    "perceptual_hashes",
    metadata,
    sa.Column("project", sa.String(100), primary_key=True),
    sa.Column("entry_id", sa.String(32), primary_key=True),
    sa.Column("hash", sa.BigInteger, nullable=False),  # the 64 bits as a signed integer
    sa.Column("band0", sa.Integer, nullable=False),  # bits 63..48
    sa.Column("band1", sa.Integer, nullable=False),  # bits 47..32
    sa.Column("band2", sa.Integer, nullable=False),  # bits 31..16
    sa.Column("band3", sa.Integer, nullable=False),  # bits 15..0
    sa.ForeignKeyConstraint(
        ["project", "entry_id"],
        ["media_entries.project", "media_entries.id"],
        ondelete="CASCADE",
    ),
    # Covering: a lookup reads the rows it checks from the indexes alone.
    sa.Index("ix_perceptual_hashes_band0", "project", "band0", "hash", "entry_id"),
    sa.Index("ix_perceptual_hashes_band1", "project", "band1", "hash", "entry_id"),
    sa.Index("ix_perceptual_hashes_band2", "project", "band2", "hash", "entry_id"),
    sa.Index("ix_perceptual_hashes_band3", "project", "band3", "hash", "entry_id"),
)

# A project's run of the analysis over entries imported before it existed (library/analysis.py,
# `medialib analyze`): where it is (the last entry id looked at), what it did, and the chain of
# tasks that carries it (a task of an older chain ends at once). Migration 0016.
analysis_runs = sa.Table(
    "analysis_runs",
    metadata,
    sa.Column("project", sa.String(100), primary_key=True),
    sa.Column("chain", sa.String(32), nullable=False),
    sa.Column("after_id", sa.String(32), nullable=True),
    sa.Column("total", sa.Integer, nullable=False),  # the project's entries when it started
    sa.Column("looked_at", sa.Integer, nullable=False),
    sa.Column("analysed", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
)

import_jobs = sa.Table(
    "import_jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("project", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # an ImportKind's name: image | file
    sa.Column("system_name", sa.String(200), nullable=False),
    sa.Column("webhook", sa.String(2048), nullable=True),
    sa.Column("context", JSONType, nullable=True),
    sa.Column("state", sa.String(10), nullable=False),  # imports.jobs.JobState
    sa.Column("total", sa.Integer, nullable=False),
    # Items not finished yet, counted down in the transaction that finishes them: the one that
    # reaches 0 finishes the job, however many workers finish items at once.
    sa.Column("pending", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    # Set by a cancel (the job finishes in the same transaction): the workers of its chunks
    # read it to stop their downloads.
    sa.Column("cancelled_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(["project"], ["projects.handle"], ondelete="CASCADE"),
    # A project's jobs, newest first (GET /import/jobs).
    sa.Index("ix_import_jobs_project_started_at", "project", "started_at", "id"),
)

import_items = sa.Table(
    "import_items",
    metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("external_id", sa.String(500), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("metadata", JSONType, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # imports.jobs.ItemState
    sa.Column("action", sa.String(10), nullable=True),  # library.repository.Action
    sa.Column("reason", sa.String(1000), nullable=True),
    sa.Column("reason_code", sa.String(50), nullable=True),
    # What the item made: {mediaId, key, width, height, mimeType, size}
    sa.Column("result", JSONType, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(["job_id"], ["import_jobs.id"], ondelete="CASCADE"),
    sa.Index("ix_import_items_job_id_state", "job_id", "state"),
    # A job's items finished in a window (the operations page's last hour; migration 0014).
    sa.Index("ix_import_items_job_id_finished_at", "job_id", "finished_at"),
)

# The outbox: what happened (an event) and where it goes (a delivery per destination), written in
# the transaction that made it happen (db/outbox.py) and delivered by events/.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite counts only INTEGER keys up

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(100), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),  # import.finished, ...
    sa.Column("subject", sa.String(64), nullable=False),  # the job (or entry) it is about
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(["project"], ["projects.handle"], ondelete="CASCADE"),
    sa.Index("ix_events_subject", "subject"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # the webhook-id every attempt sends
    sa.Column("event_id", ID, nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    # The handle of the webhook configured the original API's way that it goes to (migration
    # 0009): its payload is the original's, and its configuration's secret signs it too.
    sa.Column("webhook", sa.String(50), nullable=True),
    sa.Column("state", sa.String(10), nullable=False),  # db.outbox.DeliveryState
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
    sa.Index("ix_deliveries_event_id", "event_id"),
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("delivery_id", sa.String(64), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], ondelete="CASCADE"),
    # Attempts in a window (the operations page's failing deliveries; migration 0014).
    sa.Index("ix_delivery_attempts_at", "at"),
)

# The embedded task runner's queue (PostgreSQL deployments use procrastinate's tables instead).
tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("args", JSONType, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # tasks.local.TaskState
    sa.Column("run_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("owner", sa.String(32), nullable=True),  # the runner working it
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_tasks_state_run_at", "state", "run_at"),
)

# Periodic tasks' next run (migration 0014): a run re-defers itself only while the row names
# its time, so however many processes start a chain, one goes on.
periodic_tasks = sa.Table(
    "periodic_tasks",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("due_at", UTCDateTime, nullable=False),
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


Row = dict[str, Any]
