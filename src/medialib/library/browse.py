"""Browsing and searching a project's library: newest first, filtered, continued by a cursor.

Every filter narrows an index range scan of `(project, created_at, id)` or one of its siblings;
`q` uses the full-text index of each backend (migration 0006): PostgreSQL's `search` tsvector,
SQLite's FTS5 table `entry_search`. Each word of `q` must match the start of a word of the
entry's metadata text or file name ("harb" finds "Harbour").

A media type that marks some of its properties `index: true` is searched in those only (and the
file name). The index holds every property's words, so it still finds the candidates, and each
is checked again against the marked properties' text: by the same tsvector of just those on
PostgreSQL, by `medialib_has_words` (db/fts_words.py) on SQLite. The marks are read from the
config at each search, so a changed config needs no reindexing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db import keyset
from medialib.db.engine import Database
from medialib.db.fts_words import HAS_WORDS
from medialib.db.tables import media_entries
from medialib.errors import BadRequest
from medialib.library.models import Entry
from medialib.library.projects import Project
from medialib.library.repository import entry_from_row

MAX_WORDS = 10
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Browse:
    """What a listing asks for; None is no filter."""

    media_type: str | None = None
    system_name: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    archived: bool | None = None
    revoked: bool | None = None
    q: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass
class EntryPage:
    entries: list[Entry]
    cursor: str | None  # where the next page starts; None on the last


def words_of(q: str) -> list[str]:
    """The words of a search, lowercased; punctuation separates words as it does in the index."""
    words = [word.lower() for word in _WORD.findall(q.replace("_", " "))]
    if len(words) > MAX_WORDS:
        raise BadRequest(details={"q": f"at most {MAX_WORDS} words"})
    return words


def search_scopes(project: Project) -> dict[str, tuple[str, ...]]:
    """The media types that mark properties `index`, and the marked ones: what `q` searches
    of their entries' metadata."""
    return {
        handle: media_type.schema.searched
        for handle, media_type in project.media_types.items()
        if media_type.schema.searched
    }


async def browse(db: Database, project: Project, ask: Browse) -> EntryPage:
    if any("\x00" in value for value in (ask.media_type, ask.system_name) if value):
        # Nothing stored holds a NUL (library/storable.py), and PostgreSQL takes none in a query.
        return EntryPage([], None)
    entries = media_entries.c
    conditions = _filters(project.handle, ask)
    words = words_of(ask.q) if ask.q is not None else []
    scopes = {
        media_type: handles
        for media_type, handles in search_scopes(project).items()
        if ask.media_type in (None, media_type)
    }
    async with db.read() as conn:
        if words and db.is_sqlite:
            match = fts_query(words, await _terms_beginning(conn, words))
            scoped = _sqlite_scoped(words, scopes) if scopes else None
            picked = await _sqlite_search(conn, conditions, match, ask, scoped) if match else []
            conditions = [_ROWID.in_(picked)]
        elif words:
            conditions.append(_pg_matches(words))
            if scopes:
                conditions.append(_pg_scoped(words, scopes))
        query = keyset.newest_first(
            sa.select(media_entries).where(*conditions),
            entries.created_at,
            entries.id,
            ask.cursor if not (words and db.is_sqlite) else None,
            ask.limit,
        )
        rows = (await conn.execute(query)).all()
    shown = [entry_from_row(row) for row in rows[: ask.limit]]
    last = shown[-1] if len(rows) > ask.limit else None
    return EntryPage(shown, keyset.encode(last.created_at, last.id) if last else None)


def _filters(project: str, ask: Browse) -> list[sa.ColumnElement[bool]]:
    entries = media_entries.c
    conditions = [entries.project == project]
    if ask.media_type is not None:
        conditions.append(entries.media_type == ask.media_type)
    if ask.system_name is not None:
        conditions.append(entries.system_name == ask.system_name)
    if ask.created_after is not None:
        conditions.append(_later_than(entries.created_at, ask.created_after))
    if ask.created_before is not None:
        conditions.append(entries.created_at < ask.created_before)
    if ask.updated_after is not None:
        conditions.append(_later_than(entries.updated_at, ask.updated_after))
    if ask.archived is not None:
        conditions.append(entries.archived.is_(ask.archived))
    if ask.revoked is not None:
        conditions.append(entries.revoked.is_(ask.revoked))
    return conditions


def _later_than(column: sa.ColumnElement[dt.datetime], when: dt.datetime) -> sa.ColumnElement[bool]:
    """Times that show as later than `when`: the API shows times to the millisecond, so an
    entry shown at `when` itself is not after it. Nothing shows later than the calendar's last
    millisecond (9999-12-31T23:59:59.999Z)."""
    shown = when.replace(microsecond=when.microsecond // 1000 * 1000)
    try:
        return column >= shown + dt.timedelta(milliseconds=1)
    except OverflowError:
        return sa.false()


MAX_TERMS = 32  # a word that begins more of the index's terms stays a prefix query
_TERMS = sa.text(
    "SELECT term FROM entry_search_terms WHERE term >= :word AND term < :beyond LIMIT :most"
)


async def _terms_beginning(conn: AsyncConnection, words: list[str]) -> dict[str, list[str]]:
    """The index's terms each word begins, up to one more than MAX_TERMS. Words with other than
    ASCII letters and digits are left out: the tokenizer folds their accents, which a
    comparison here would not, so they stay prefix queries."""
    found = {}
    for word in dict.fromkeys(words):
        if word.isascii():
            beyond = word[:-1] + chr(ord(word[-1]) + 1)  # the first string past the word's
            query = _TERMS.bindparams(word=word, beyond=beyond, most=MAX_TERMS + 1)
            found[word] = list((await conn.execute(query)).scalars())
    return found


def fts_query(words: list[str], terms: dict[str, list[str]]) -> str | None:
    """An FTS5 query that wants every word as the start of a term; None when a word begins no
    term at all (nothing can match).

    A word is written as the whole terms it begins, `("harbour" OR "harbours")`, when it begins
    a few: FTS5 seeks within a term's list to a step's rowid range, while a prefix query
    (`"harb"*`) merges the lists of every term it begins, whole, for each query (10 ms against
    0.05 ms on a million entries). Every word is quoted, so none is an operator."""
    parts = []
    for word in words:
        begun = terms.get(word)
        if begun is None or len(begun) > MAX_TERMS:
            parts.append(f'"{word}"*')
        elif not begun:
            return None
        else:
            parts.append("(" + " OR ".join(f'"{term}"' for term in begun) + ")")
    return " AND ".join(parts)


_ROWID = sa.literal_column("media_entries.rowid", sa.Integer)
_FTS_COUNT = sa.text(
    "SELECT count(*) FROM (SELECT 1 FROM entry_search WHERE entry_search MATCH :match LIMIT :most)"
)
_FTS_ROWIDS = sa.text("SELECT rowid FROM entry_search WHERE entry_search MATCH :match")
_FTS_RANGE = sa.text(
    "SELECT rowid FROM entry_search WHERE entry_search MATCH :match AND rowid BETWEEN :lo AND :hi"
)
FEW_MATCHES = 5000  # up to here the matches are looked up and sorted; beyond, walked past
WALK_STEP = 2000  # the first step of a walk
LONGEST_STEP = 200_000


def next_step(walked: int, matched: int, wanted: int) -> int:
    """How many entries the next step of a walk takes: at the rate of matches seen so far, twice
    what should bring the rest, so that one more FTS5 query (each reads the words' whole
    lists) nearly always ends the page."""
    if matched == 0:
        return min(walked * 8, LONGEST_STEP)
    estimate = (wanted - matched) * walked // matched
    return max(WALK_STEP, min(estimate * 2, LONGEST_STEP))


async def _sqlite_search(
    conn: AsyncConnection,
    conditions: list[sa.ColumnElement[bool]],
    match: str,
    ask: Browse,
    scoped: sa.ColumnElement[bool] | None = None,
) -> list[int]:
    """The rowids of the page's entries (and one more) that match `match` (and `scoped`, the
    check of the marked properties, which runs on the index's matches only), newest first.

    A rare word's few matches are fetched and sorted. A common word's would be too many to sort
    for each page, so the entries are walked newest first (an index scan, the way a page without
    `q` is made), a step at a time, and each step's rowid range is asked of FTS5 once."""
    narrowed = [] if scoped is None else [scoped]
    found = await conn.scalar(_FTS_COUNT.bindparams(match=match, most=FEW_MATCHES))
    if (found or 0) < FEW_MATCHES:
        matching = _ROWID.in_(_FTS_ROWIDS.bindparams(match=match).columns(sa.column("rowid")))
        query = keyset.newest_first(
            sa.select(_ROWID).where(*conditions, matching, *narrowed),
            media_entries.c.created_at,
            media_entries.c.id,
            ask.cursor,
            ask.limit,
        )
        return list((await conn.execute(query)).scalars())
    picked: list[int] = []
    cursor, size, walked = ask.cursor, WALK_STEP, 0
    while len(picked) <= ask.limit:
        # Only rowids: a step is thousands of rows, and reading each one's time into a datetime
        # cost more than the step's SQL. The last row's position is read on its own.
        step = keyset.newest_first(
            sa.select(_ROWID).where(*conditions),
            media_entries.c.created_at,
            media_entries.c.id,
            cursor,
            size - 1,
        )
        rowids = list((await conn.execute(step)).scalars())
        if not rowids:
            break
        ranged = _FTS_RANGE.bindparams(match=match, lo=min(rowids), hi=max(rowids))
        in_range: sa.Executable = ranged
        if narrowed:
            found_here = ranged.columns(sa.column("rowid"))
            in_range = sa.select(_ROWID).where(_ROWID.in_(found_here), *narrowed)
        hits = set((await conn.execute(in_range)).scalars())
        picked += [rowid for rowid in rowids if rowid in hits]
        if len(rowids) < size:
            break
        walked += len(rowids)
        size = next_step(walked, len(picked), ask.limit + 1)
        last = (
            await conn.execute(
                sa.select(media_entries.c.created_at, media_entries.c.id).where(
                    _ROWID.in_(rowids[-1:])
                )
            )
        ).one()
        cursor = keyset.encode(last.created_at, last.id)
    return picked[: ask.limit + 1]


def _pg_matches(words: list[str]) -> sa.ColumnElement[Any]:
    """Every word, as the start of a word of the entry's text (to_tsquery's syntax: \\w words
    carry no operators; `:*` for a prefix)."""
    query = " & ".join(f"{word}:*" for word in words)
    return sa.literal_column("media_entries.search").op("@@")(
        sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), query)
    )


def _pg_scoped(words: list[str], scopes: Mapping[str, tuple[str, ...]]) -> sa.ColumnElement[bool]:
    """Entries of the scoped media types whose marked properties (or file name) hold every
    word: the tsvector of the index (migration 0006), of those properties only."""
    entries = media_entries.c
    query = sa.func.to_tsquery(_SIMPLE, " & ".join(f"{word}:*" for word in words))
    either: list[sa.ColumnElement[bool]] = [entries.media_type.not_in(list(scopes))]
    for media_type, handles in scopes.items():
        marked = sa.func.jsonb_build_object(
            *(
                part
                for handle in handles
                for part in (_text(handle), entries.metadata.op("->")(_text(handle)))
            )
        )
        words_of_type = _PG_FILE_NAME_WORDS.op("||")(
            sa.func.jsonb_to_tsvector(_SIMPLE, marked, _PG_STRINGS)
        )
        either.append(sa.and_(entries.media_type == media_type, words_of_type.op("@@")(query)))
    return sa.or_(*either)


_SIMPLE: sa.ColumnElement[Any] = sa.literal_column("'simple'::regconfig")
_PG_STRINGS: sa.ColumnElement[Any] = sa.literal_column("""'["string"]'::jsonb""")
# The file name's part of the index's tsvector, as migration 0006 writes it.
_PG_FILE_NAME_WORDS: sa.ColumnElement[Any] = sa.literal_column(
    "to_tsvector('simple'::regconfig,"
    " regexp_replace(coalesce(media_entries.asset->>'filename', ''), '[^[:alnum:]]+', ' ', 'g'))"
)


def _text(value: str) -> sa.ColumnElement[str]:
    return sa.cast(sa.literal(value), sa.Text)


def _sqlite_scoped(
    words: list[str], scopes: Mapping[str, tuple[str, ...]]
) -> sa.ColumnElement[bool]:
    """Entries of the scoped media types whose marked properties (or file name) hold every
    word, as FTS5 would find them (db/fts_words.py)."""
    entries = media_entries.c
    said = " ".join(words)
    either: list[sa.ColumnElement[bool]] = [entries.media_type.not_in(list(scopes))]
    for media_type, handles in scopes.items():
        text: sa.ColumnElement[Any] = sa.func.coalesce(
            sa.func.json_extract(entries.asset, "$.filename"), ""
        )
        for handle in handles:
            text = text.op("||")(" ").op("||")(sa.func.coalesce(_sqlite_texts(handle), ""))
        has_words = getattr(sa.func, HAS_WORDS)(said, text, type_=sa.Boolean)
        either.append(sa.and_(entries.media_type == media_type, has_words))
    return sa.or_(*either)


def _sqlite_texts(handle: str) -> sa.ScalarSelect[Any]:
    """The texts of one metadata property, whatever its shape, as one."""
    tree = sa.func.json_tree(media_entries.c.metadata, f'$."{handle}"').table_valued(
        "value", "type"
    )
    return (
        sa.select(sa.func.group_concat(tree.c.value, " "))
        .where(tree.c.type == "text")
        .scalar_subquery()
    )
