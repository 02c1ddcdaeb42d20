"""SQLite's full-text index is filled by the statement that writes the entries, not by a row
trigger (db/search_index.py): the insert trigger of migration 0006 goes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORDS = (
    "coalesce(json_extract(new.asset, '$.filename'), '') || ' ' || coalesce("
    "(SELECT group_concat(value, ' ') FROM json_tree(new.metadata) WHERE type = 'text'), '')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute("DROP TRIGGER media_entries_search_insert")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute(
        "CREATE TRIGGER media_entries_search_insert AFTER INSERT ON media_entries BEGIN"
        f" INSERT INTO entry_search(rowid, words) VALUES (new.rowid, {WORDS}); END"
    )
