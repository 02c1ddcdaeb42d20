"""Browsing and searching the library: indexes for the newest-first walk and its filters, and a
full-text index of each entry's words (its metadata's text and its file name)

PostgreSQL keeps the words in a generated `search` tsvector column with a GIN index. SQLite keeps
them in the FTS5 table `entry_search`, whose rowid is the entry's rowid, filled by triggers, and
lists its terms in `entry_search_terms` (fts5vocab). (A
later migration that rebuilds `media_entries` on SQLite must refill `entry_search`, as this one
does, because a rebuilt table's rowids may differ.)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_media_entries_project_created_at": ["project", "created_at", "id"],
    "ix_media_entries_project_media_type": ["project", "media_type", "created_at", "id"],
    "ix_media_entries_project_system_name": ["project", "system_name", "created_at", "id"],
    "ix_media_entries_project_updated_at": ["project", "updated_at"],
}

PG_WORDS = (
    "to_tsvector('simple'::regconfig,"
    " regexp_replace(coalesce(asset->>'filename', ''), '[^[:alnum:]]+', ' ', 'g'))"
    " || jsonb_to_tsvector('simple'::regconfig, metadata, '[\"string\"]'::jsonb)"
)

SQLITE_WORDS = (
    "coalesce(json_extract(new.asset, '$.filename'), '') || ' ' || coalesce("
    "(SELECT group_concat(value, ' ') FROM json_tree(new.metadata) WHERE type = 'text'), '')"
)

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER media_entries_search_insert AFTER INSERT ON media_entries BEGIN
        INSERT INTO entry_search(rowid, words) VALUES (new.rowid, {SQLITE_WORDS});
    END""",
    f"""CREATE TRIGGER media_entries_search_update AFTER UPDATE OF metadata, asset
        ON media_entries BEGIN
        DELETE FROM entry_search WHERE rowid = old.rowid;
        INSERT INTO entry_search(rowid, words) VALUES (new.rowid, {SQLITE_WORDS});
    END""",
    """CREATE TRIGGER media_entries_search_delete AFTER DELETE ON media_entries BEGIN
        DELETE FROM entry_search WHERE rowid = old.rowid;
    END""",
]


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "media_entries", columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE media_entries ADD COLUMN search tsvector "
            f"GENERATED ALWAYS AS ({PG_WORDS}) STORED"
        )
        op.execute("CREATE INDEX ix_media_entries_search ON media_entries USING gin (search)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE entry_search USING fts5("
        "words, tokenize = 'unicode61 remove_diacritics 2')"
    )
    # The index's terms, so a search word is looked up as the few whole terms it begins
    # (library/browse.py): FTS5 merges a prefix query's lists whole for every query, but seeks
    # in a term's list.
    op.execute("CREATE VIRTUAL TABLE entry_search_terms USING fts5vocab(entry_search, 'row')")
    for trigger in SQLITE_TRIGGERS:
        op.execute(trigger)
    op.execute(
        "INSERT INTO entry_search(rowid, words) SELECT new.rowid, "
        f"{SQLITE_WORDS} FROM media_entries AS new"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_media_entries_search")
        op.execute("ALTER TABLE media_entries DROP COLUMN search")
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER media_entries_search_{trigger}")
        op.execute("DROP TABLE entry_search_terms")
        op.execute("DROP TABLE entry_search")
    for name in INDEXES:
        op.drop_index(name, table_name="media_entries")
