"""Keeping SQLite's full-text index (`entry_search`, migration 0006) current with the entries.

Entries are indexed by the transaction that writes them, one statement for all the rows it added
(migration 0017 took the row trigger away: a row trigger costs SQLite about 20 µs an inserted row
even when it does nothing, and the trigger's own insert 45, where this statement takes 7). New
rows are found by their rowid: a new entry's rowid is above every existing one (SQLite picks
max(rowid) + 1), and every entry at or under the index's largest rowid is indexed, so "above the
index's largest rowid" is exactly "not indexed yet". A writer that forgot to call this would
leave its entries unsearchable only until the next writer's call, which indexes them too.

PostgreSQL keeps its words in a generated column with a GIN index, and needs nothing here.
Updates and deletes keep their row triggers: they are rare next to inserts.
"""

from __future__ import annotations

import sqlalchemy as sa

from medialib.db.engine import Tx

# The words of an entry, as migration 0006's triggers took them: its file name and every text of
# its metadata. `entry_search_docsize` is FTS5's own table of one row per indexed document, keyed
# by rowid: its largest key is found in the b-tree at once (a max() over the FTS5 table scans).
INDEX_NEW_ENTRIES_SQL = (
    "INSERT INTO entry_search(rowid, words) SELECT new.rowid,"
    " coalesce(json_extract(new.asset, '$.filename'), '') || ' ' || coalesce("
    "(SELECT group_concat(value, ' ') FROM json_tree(new.metadata) WHERE type = 'text'), '')"
    " FROM media_entries AS new"
    " WHERE new.rowid > (SELECT coalesce(max(id), 0) FROM entry_search_docsize)"
)
_INDEX_NEW = sa.text(INDEX_NEW_ENTRIES_SQL)


def index_new_entries(tx: Tx) -> None:
    """Add the entries this transaction inserted to the full-text index (SQLite; PostgreSQL's
    index keeps itself)."""
    if not tx.is_postgres:
        tx.execute(_INDEX_NEW)
