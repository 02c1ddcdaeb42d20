"""Entries' references to stored objects, complete: `entry_keys` gets the keys of entries made
before 0005 (their asset, poster and translations' assets), an index by key (which entries refer
to an object: per-entry revocation, deletion, sharing), and `assets` an index by content hash
(an import whose bytes the project stores already reuses the object)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every key an entry holds now: (project, id, key, created_at) rows, one SELECT per place a key
# sits, inserted unless the row is there already.
PG_KEYS = [
    "SELECT project, id, asset->>'key', created_at FROM media_entries",
    "SELECT project, id, asset->'poster'->>'key', created_at FROM media_entries"
    " WHERE asset->'poster'->>'key' IS NOT NULL",
    "SELECT e.project, e.id, t.value->'asset'->>'key', e.created_at FROM media_entries e,"
    " jsonb_array_elements(e.translations) t WHERE t.value->'asset'->>'key' IS NOT NULL",
    "SELECT e.project, e.id, t.value->'asset'->'poster'->>'key', e.created_at"
    " FROM media_entries e, jsonb_array_elements(e.translations) t"
    " WHERE t.value->'asset'->'poster'->>'key' IS NOT NULL",
]
SQLITE_KEYS = [
    "SELECT project, id, json_extract(asset, '$.key'), created_at FROM media_entries",
    "SELECT project, id, json_extract(asset, '$.poster.key'), created_at FROM media_entries"
    " WHERE json_extract(asset, '$.poster.key') IS NOT NULL",
    "SELECT e.project, e.id, json_extract(t.value, '$.asset.key'), e.created_at"
    " FROM media_entries e, json_each(e.translations) t"
    " WHERE json_extract(t.value, '$.asset.key') IS NOT NULL",
    "SELECT e.project, e.id, json_extract(t.value, '$.asset.poster.key'), e.created_at"
    " FROM media_entries e, json_each(e.translations) t"
    " WHERE json_extract(t.value, '$.asset.poster.key') IS NOT NULL",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # (SQLite would read ON CONFLICT after a SELECT as a join's ON: it says OR IGNORE.)
    insert = "INSERT INTO" if postgres else "INSERT OR IGNORE INTO"
    ignore = " ON CONFLICT DO NOTHING" if postgres else ""
    for select in PG_KEYS if postgres else SQLITE_KEYS:
        op.execute(f"{insert} entry_keys (project, entry_id, key, created_at) {select}{ignore}")
    op.create_index("ix_entry_keys_project_key", "entry_keys", ["project", "key"])
    op.create_index("ix_assets_project_sha256", "assets", ["project", "sha256"])


def downgrade() -> None:
    op.drop_index("ix_assets_project_sha256", table_name="assets")
    op.drop_index("ix_entry_keys_project_key", table_name="entry_keys")
