"""Near-duplicates within a project: pictures whose 64-bit perceptual hashes differ in a few bits.

Multi-index hashing (Norouzi, Punjani and Fleet, 2012). The table `perceptual_hashes` keeps each
hash split into four bands of 16 bits, each with an ordinary index of `(project, band, hash,
entry_id)` (covering: a lookup reads no row of the table, migration 0016). If two
hashes differ in at most `threshold` bits, the pigeonhole principle says that one of the four
bands differs in at most `r = threshold // 4` bits (four bands each differing in `r + 1` or more
would make `4 * (r + 1) > threshold` bits). So a lookup asks for the rows whose band 0, 1, 2 or
3 is one of the values within `r` bits of the picture's (137 values per band for r = 2: 1 + 16
+ 120), an index probe per value, and checks the whole hash's distance here on the rows found.

The threshold is capped at 11 (`MAX_THRESHOLD`): up to 11 the radius stays at 2 bits, and 12
would need 3, with 697 values per band and about five times the rows to check (on a million
random hashes some 8,000 rows a lookup become 43,000: past the 20 ms a lookup may take). pHash
distances between unrelated photos gather around 32 bits, and copies of one picture (re-encoded,
resized, another format) lie within a few, so 11 leaves room.

Archived entries are found like any other: an editor archiving the weaker copies of a picture
still wants to see which copies there are (the web view marks them archived). An entry is never
its own near-duplicate. Results are closest first, ties by entry id.

Lookups are plain functions of a synchronous connection, so that an import's transaction can
call them (`tx.conn`) and async readers run them with `AsyncConnection.run_sync`.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from medialib.db.engine import Database, Tx
from medialib.db.tables import dialect_module, media_entries, perceptual_hashes
from medialib.errors import BadRequest
from medialib.library import page_cursors
from medialib.library.models import Entry
from medialib.library.projects import Project
from medialib.library.repository import entry_from_row, is_valid_entry_id, not_found

BITS = 64
BANDS = 4
BAND_BITS = BITS // BANDS
MAX_THRESHOLD = 11
DEFAULT_THRESHOLD = 10
MAX_BATCH = 32  # hashes per query of `near_many`: 32 * 137 values a band at most
_MASK = (1 << BITS) - 1
_BAND_MASK = (1 << BAND_BITS) - 1


@dataclass(frozen=True)
class Similar:
    """A near-duplicate: the entry and how many of the 64 bits differ."""

    media_id: str
    distance: int


@dataclass(frozen=True)
class Group:
    """An entry (the group's first by id) and its near-duplicates, closest first."""

    media_id: str
    similar: list[Similar]


@dataclass(frozen=True)
class GroupPage:
    groups: list[Group]
    cursor: str | None  # where the walk goes on; None when it has seen every entry


_SHIFTS = (48, 32, 16, 0)


def bands(phash: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands of a hash, from the top bits down."""
    b0, b1, b2, b3 = (phash >> shift & _BAND_MASK for shift in _SHIFTS)
    return b0, b1, b2, b3


def to_signed(phash: int) -> int:
    """The 64 bits as the signed BIGINT both databases store."""
    return phash - (1 << BITS) if phash >= 1 << (BITS - 1) else phash


def to_unsigned(stored: int) -> int:
    return stored & _MASK


def distance(a: int, b: int) -> int:
    return ((a ^ b) & _MASK).bit_count()


def check_threshold(threshold: int) -> int:
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise ValueError(f"threshold must be 0 to {MAX_THRESHOLD} bits, not {threshold}")
    return threshold


def _check_hash(phash: int) -> int:
    if not 0 <= phash <= _MASK:
        raise ValueError(f"a perceptual hash is 64 bits unsigned, not {phash}")
    return phash


@functools.cache
def _masks(radius: int) -> tuple[int, ...]:
    """Every 16-bit value with at most `radius` bits set: XORed with a band, the values within
    `radius` bits of it."""
    return tuple(
        sum(1 << bit for bit in bits)
        for flipped in range(radius + 1)
        for bits in itertools.combinations(range(BAND_BITS), flipped)
    )


def band_values(band: int, radius: int) -> list[int]:
    return [band ^ mask for mask in _masks(radius)]


# Writing


def record_hashes(tx: Tx, project: str, hashes: Mapping[str, int | None]) -> None:
    """Give each entry its hash's row (replacing one it had); None deletes the entry's row."""
    gone = [entry_id for entry_id, phash in hashes.items() if phash is None]
    rows = [
        _row(project, entry_id, _check_hash(phash))
        for entry_id, phash in hashes.items()
        if phash is not None
    ]
    if gone:
        tx.execute(
            perceptual_hashes.delete().where(
                perceptual_hashes.c.project == project, perceptual_hashes.c.entry_id.in_(gone)
            )
        )
    if rows:
        tx.execute(_upsert(tx.conn.dialect.name), rows)


def _row(project: str, entry_id: str, phash: int) -> dict[str, Any]:
    b0, b1, b2, b3 = bands(phash)
    return {
        "project": project,
        "entry_id": entry_id,
        "hash": to_signed(phash),
        "band0": b0,
        "band1": b1,
        "band2": b2,
        "band3": b3,
    }


@functools.cache
def _upsert(dialect: str) -> sa.Insert:
    # Built once, as db/upsert.py builds its inserts: both dialects spell ON CONFLICT alike.
    insert = dialect_module(dialect).insert(perceptual_hashes)
    columns = ("hash", "band0", "band1", "band2", "band3")
    replaced = {name: insert.excluded[name] for name in columns}
    built: sa.Insert = insert.on_conflict_do_update(
        index_elements=[perceptual_hashes.c.project, perceptual_hashes.c.entry_id], set_=replaced
    )
    return built


# Looking up


def near_many(
    conn: Connection, project: str, hashes: Mapping[str, int], threshold: int, limit: int
) -> dict[str, list[Similar]]:
    """For each key (an entry's id, or any name for a picture not stored yet) the entries of
    the project within `threshold` bits of its hash, closest first, at most `limit`: one query
    per `MAX_BATCH` hashes. An entry is never listed as near itself."""
    check_threshold(threshold)
    found: dict[str, list[Similar]] = {}
    items = [(key, _check_hash(phash)) for key, phash in hashes.items()]
    for start in range(0, len(items), MAX_BATCH):
        batch = dict(items[start : start + MAX_BATCH])
        found |= _near_batch(conn, project, batch, threshold, limit)
    return found


def _near_batch(
    conn: Connection, project: str, hashes: Mapping[str, int], threshold: int, limit: int
) -> dict[str, list[Similar]]:
    radius = threshold // BANDS
    # band number -> band value -> the keys whose band is within `radius` bits of the value
    wanted: list[dict[int, list[str]]] = [{} for _ in range(BANDS)]
    for key, phash in hashes.items():
        for number, band in enumerate(bands(phash)):
            for value in band_values(band, radius):
                wanted[number].setdefault(value, []).append(key)
    dialect = conn.dialect.name
    params: dict[str, Any] = {f"b{n}": sorted(wanted[n]) for n in range(BANDS)}
    if dialect != "postgresql":  # one JSON array a band: the statement's text never changes
        params = {name: json.dumps(values) for name, values in params.items()}
    bands_found = conn.execute(_candidates(dialect), {"project": project, **params}).all()
    # The loop below runs for thousands of rows a lookup (some 8,000 on a million random
    # hashes): it compares the stored signed values as they come, and looks up only the keys
    # that asked for the band the row was found by.
    signed = {key: to_signed(phash) for key, phash in hashes.items()}
    near: dict[str, dict[str, int]] = {key: {} for key in hashes}
    for number, stored_hashes, entry_ids in bands_found:
        for stored, entry_id in _unpacked(dialect, stored_hashes, entry_ids):
            for key in wanted[number].get(stored >> _SHIFTS[number] & _BAND_MASK, ()):
                apart = ((stored ^ signed[key]) & _MASK).bit_count()
                if apart <= threshold and entry_id != key:
                    near[key][entry_id] = apart
    return {key: _closest(found, limit) for key, found in near.items()}


def _unpacked(dialect: str, stored_hashes: Any, entry_ids: Any) -> Iterable[tuple[int, str]]:
    """A band's rows from its aggregates: PostgreSQL's arrays, SQLite's comma separated text
    (entry ids hold no comma); none when the band found no row."""
    if stored_hashes is None:
        return ()
    if dialect == "postgresql":
        return zip(stored_hashes, entry_ids, strict=True)
    return zip(map(int, stored_hashes.split(",")), entry_ids.split(","), strict=True)


def _closest(found: Mapping[str, int], limit: int) -> list[Similar]:
    ordered = sorted(found.items(), key=lambda pair: (pair[1], pair[0]))
    return [Similar(entry_id, apart) for entry_id, apart in ordered[:limit]]


@functools.cache
def _candidates(dialect: str) -> sa.CompoundSelect[Any]:
    """Per band, the rows whose band is among the asked values: four index-only scans, one
        probe per value (a row found by two bands comes twice).

        Each band's rows come as one row of two aggregates (hashes and entry ids: arrays on
        PostgreSQL, comma separated text on SQLite), not a row each. Thousands of row objects kept
        alive a lookup were promoted by the garbage collector until a full collection ran every
        few lookups: 65 to 90 ms each on a million entries, the whole of the p99.

        UNION ALL rather than one query with `band0 IN (…) OR band1 IN (…) …`: with the OR,
        PostgreSQL makes a BitmapOr of the four indexes and then reads every row from the table
        (a bitmap heap scan, 17 ms at p50 on a million hashes against 6.5 ms), and SQLite's
        MULTI-INDEX OR reads each row from the table too (7.6 ms against 4.9; before the indexes
        covered the lookup, 35 ms). The values are bound as an array on PostgreSQL (one parameter,
        where a batch's thousands of values would each be one), and on SQLite as one JSON array a
    band, read by `json_each`: the statement's text stays the same. (Values written into it made
    a new statement of some 100 KB a batch, which SQLite compiled each time and the driver kept,
    up to 128 of them, in its statement cache: 10 MB more in a worker at its peak.)"""
    table = perceptual_hashes.c
    band_columns = (table.band0, table.band1, table.band2, table.band3)
    packed: tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]
    if dialect == "postgresql":
        packed = (sa.func.array_agg(table.hash), sa.func.array_agg(table.entry_id))
    else:
        packed = (sa.func.group_concat(table.hash), sa.func.group_concat(table.entry_id))
    selects = []
    for n, column in enumerate(band_columns):
        if dialect == "postgresql":
            asked = column == sa.any_(
                sa.bindparam(f"b{n}", type_=dialect_module(dialect).ARRAY(sa.Integer))
            )
        else:
            values: sa.Select[Any] = sa.select(sa.literal_column("value")).select_from(
                sa.func.json_each(sa.bindparam(f"b{n}"))
            )
            asked = column.in_(values)
        found_by = sa.literal_column(str(n), sa.Integer).label("band")
        selects.append(
            sa.select(found_by, *packed).where(table.project == sa.bindparam("project"), asked)
        )
    return sa.union_all(*selects)


_HASH_OF = sa.select(perceptual_hashes.c.hash).where(
    perceptual_hashes.c.project == sa.bindparam("project"),
    perceptual_hashes.c.entry_id == sa.bindparam("entry_id"),
)


def hash_of(conn: Connection, project: str, media_id: str) -> int | None:
    stored = conn.execute(_HASH_OF, {"project": project, "entry_id": media_id}).scalar()
    return None if stored is None else to_unsigned(stored)


def similar_to(
    conn: Connection, project: str, media_id: str, threshold: int, limit: int
) -> list[Similar] | None:
    """The near-duplicates of an entry of the project, closest first; None when it has no
    hash (not a picture, not analysed yet, or no such entry)."""
    phash = hash_of(conn, project, media_id)
    if phash is None:
        return None
    return near_many(conn, project, {media_id: phash}, threshold, limit)[media_id]


async def similar_entries(
    db: Database, project: Project, media_id: str, limit: int
) -> list[tuple[Entry, int]]:
    """The near-duplicates of one of the project's entries under the project's threshold,
    closest first, with their distances: `GET /mediaLibrary?similarTo=`. An id no entry could
    have is a 400, an entry the project does not have a 404; one without a hash has none."""
    if not is_valid_entry_id(media_id):
        raise BadRequest(details={"similarTo": "must be an entry id (1 to 32 letters, digits, -)"})
    entries = media_entries.c
    async with db.read(snapshot=True) as conn:
        held = await conn.scalar(
            sa.select(entries.id).where(entries.project == project.handle, entries.id == media_id)
        )
        if held is None:
            raise not_found(media_id)
        near = await conn.run_sync(
            similar_to, project.handle, media_id, project.near_duplicate_threshold, limit
        )
        found = await _entries(conn, project.handle, [one.media_id for one in near or []])
    return _with_entries(near or [], found)


# Groups, for the web view


GROUP_WALK = 200  # entries a page of groups looks at, at most: a page costs a bounded time
GROUP_SHOWN = 50  # near-duplicates a group shows
_CURSOR_TAG = "g"


def groups(
    conn: Connection, project: str, after: str | None, limit: int, threshold: int
) -> GroupPage:
    """Groups of near-duplicates, walked in entry id order from `after` (a cursor this gave).

    A group is an entry and its near-duplicates, led by its first entry by id: an entry near
    one with a smaller id is in that entry's group, so each group shows once. Being near is not
    transitive: an entry near two leaders that are not near each other shows in both groups.

    A page looks at `GROUP_WALK` entries at most, so it may hold fewer than `limit` groups (even
    none) and still have a cursor: finding every group means a lookup for every entry."""
    check_threshold(threshold)
    start = _after(after)
    found: list[Group] = []
    walked: list[tuple[str, int]] = []
    while len(found) < limit and len(walked) < GROUP_WALK:
        step = _hashes_after(conn, project, walked[-1][0] if walked else start, MAX_BATCH)
        walked += step
        # Every near one, to tell a group's first entry: the order of ids here is Python's,
        # whatever the database's collation walks them in, so each group still shows once.
        near = near_many(conn, project, dict(step), threshold, limit=len(step) * GROUP_WALK)
        for entry_id, _ in step:
            group = near[entry_id]
            if group and all(other.media_id > entry_id for other in group):
                found.append(Group(entry_id, group[:GROUP_SHOWN]))
                if len(found) == limit:
                    return GroupPage(found, page_cursors.encode(_CURSOR_TAG, entry_id))
        if len(step) < MAX_BATCH:
            return GroupPage(found, None)
    return GroupPage(found, page_cursors.encode(_CURSOR_TAG, walked[-1][0]))


@dataclass(frozen=True)
class EntryGroup:
    """A group as the web view shows it: the entries, each near one with its distance."""

    entry: Entry
    similar: list[tuple[Entry, int]]


async def entry_groups(
    db: Database, project: Project, after: str | None, limit: int
) -> tuple[list[EntryGroup], str | None]:
    """A page of `groups` under the project's threshold, with the entries; and the cursor."""
    async with db.read(snapshot=True) as conn:
        page = await conn.run_sync(
            groups, project.handle, after, limit, project.near_duplicate_threshold
        )
        ids = {group.media_id for group in page.groups}
        ids |= {one.media_id for group in page.groups for one in group.similar}
        entries = await _entries(conn, project.handle, ids)
    shown = [
        EntryGroup(entries[group.media_id], _with_entries(group.similar, entries))
        for group in page.groups
        if group.media_id in entries
    ]
    return shown, page.cursor


def _with_entries(near: list[Similar], entries: Mapping[str, Entry]) -> list[tuple[Entry, int]]:
    # Read in one snapshot, every entry is there; the check keeps a mistake from being a 500.
    return [(entries[one.media_id], one.distance) for one in near if one.media_id in entries]


async def _entries(conn: AsyncConnection, project: str, ids: Iterable[str]) -> dict[str, Entry]:
    entries = media_entries.c
    rows = await conn.execute(
        sa.select(media_entries).where(entries.project == project, entries.id.in_(list(ids)))
    )
    return {row.id: entry_from_row(row) for row in rows}


def _after(cursor: str | None) -> str:
    if cursor is None:
        return ""
    return page_cursors.decode(_CURSOR_TAG, cursor, is_valid_entry_id)


def _hashes_after(conn: Connection, project: str, after: str, count: int) -> list[tuple[str, int]]:
    table = perceptual_hashes.c
    rows = conn.execute(
        sa.select(table.entry_id, table.hash)
        .where(table.project == project, table.entry_id > after)
        .order_by(table.entry_id)
        .limit(count)
    )
    return [(entry_id, to_unsigned(stored)) for entry_id, stored in rows]
