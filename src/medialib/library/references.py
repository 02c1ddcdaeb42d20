"""Entries that name other entries in their metadata: checked when written, indexed, and read
back as an entry's incoming references (`GET …/incomingMediaReferences`).

Which values name an entry is said by the metadata types (`metadata.MEDIA_REFERENCES`):
li-image's and li-poster-image's `mediaId`, li-video-reference's `reference.id` and
`reference.posterImageId`, in an entry's metadata and in its translations'.

- A reference an entry gains must name an entry of its own project of the kind its type names
  (an image, or a video for li-video-reference's `id`). Another project's entry is as missing as
  one that never was, and both are refused in the words of a metadata error. A reference the
  entry holds already is not checked again, so that one stored unchecked (before migration 0012)
  never stops the entry from being changed otherwise.
- The index (`media_references`) holds what the metadata says, row for row, and is written in
  the transaction that writes the metadata. An entry's rows go with it when it is deleted.
- An entry that other entries name is not deleted (a 409 naming them), as the original's
  deletion refuses an entry "referenced by other media library entries": their references must
  go first. So a reference names an entry that exists, but where its metadata was stored before
  references were checked (before migration 0012).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.tables import media_entries, media_references
from medialib.library import page_cursors
from medialib.library.media_kinds import MediaKind
from medialib.library.metadata import MEDIA_REFERENCES, MetadataIssue
from medialib.library.projects import MediaType, Project
from medialib.library.repository import is_valid_entry_id, not_found

MAX_PAGE = 100
# Ids per statement: far below what SQLite binds at once (32766), however many an import names.
_IDS_PER_QUERY = 500


@dataclass(frozen=True, order=True)
class MediaReference:
    """One entry named in a metadata property, as the kind of entry the property names."""

    property: str
    target: str
    kind: MediaKind


@dataclass(frozen=True)
class Mention:
    """A reference where a request gives it: what an error about it points at."""

    reference: MediaReference
    at: str  # a JSON pointer inside the property's value: '/reference/posterImageId'
    locale: str | None = None  # a translation's


def mentions(
    media_type: MediaType,
    metadata: Mapping[str, Any],
    translations: Iterable[Mapping[str, Any]] = (),
) -> list[Mention]:
    """The references in an entry's (valid) metadata and its translations' (as stored:
    `{locale, metadata}`)."""
    spots = _spots(media_type)
    if not spots:
        return []
    found = list(_mentions_in(metadata, spots, None))
    for translation in translations:
        found += _mentions_in(translation.get("metadata") or {}, spots, translation.get("locale"))
    return found


def names_entries(media_type: MediaType) -> bool:
    """Whether the media type has a property whose values name entries."""
    return bool(_spots(media_type))


def _spots(media_type: MediaType) -> dict[str, tuple[tuple[tuple[str, ...], MediaKind], ...]]:
    return {
        handle: MEDIA_REFERENCES[prop.type]
        for handle, prop in media_type.schema.properties.items()
        if prop.type in MEDIA_REFERENCES
    }


def _mentions_in(
    metadata: Mapping[str, Any],
    spots: Mapping[str, tuple[tuple[tuple[str, ...], MediaKind], ...]],
    locale: str | None,
) -> Iterator[Mention]:
    for handle, places in spots.items():
        value = metadata.get(handle)
        for path, kind in places:
            target = _at(value, path)
            if isinstance(target, str):
                at = "".join(f"/{key}" for key in path)
                yield Mention(MediaReference(handle, target, kind), at, locale)


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def references_of(found: Iterable[Mention]) -> frozenset[MediaReference]:
    return frozenset(mention.reference for mention in found)


# --- Checking ----------------------------------------------------------------------------------


def problems(
    found: Sequence[Mention],
    already: frozenset[MediaReference],
    kinds: Mapping[str, MediaKind | None],
) -> list[MetadataIssue]:
    """What is wrong with the references an entry gains (those it does not hold `already`):
    each must name an entry of `kinds` (the project's entries that the references name, by id,
    with the kind of their media type) of the kind its property names."""
    issues = []
    for mention in found:
        ref = mention.reference
        if ref not in already and kinds.get(ref.target) != ref.kind:
            issues.append(
                MetadataIssue(
                    ref.property, "mediaReference", (ref.kind,), mention.locale, mention.at
                )
            )
    return issues


def kinds_of(tx: Tx, project: Project, found: Iterable[Mention]) -> dict[str, MediaKind | None]:
    """The kind of each entry the references name that the project has (None for an entry
    whose media type is no longer configured)."""
    ids = sorted({m.reference.target for m in found if is_valid_entry_id(m.reference.target)})
    entries = media_entries.c
    kinds: dict[str, MediaKind | None] = {}
    for chunk in _chunks(ids):
        query = sa.select(entries.id, entries.media_type).where(
            entries.project == project.handle, entries.id.in_(chunk)
        )
        # Held until the references are written: a deletion of an entry named here waits for
        # them, and then sees them (SQLite has one writer at a time anyway).
        rows = tx.execute(query.with_for_update(read=True) if tx.is_postgres else query)
        for row in rows:
            configured = project.media_types.get(row.media_type)
            kinds[row.id] = configured.kind if configured else None
    return kinds


def held(tx: Tx, project: str, entry_ids: Iterable[str]) -> dict[str, frozenset[MediaReference]]:
    """The references the entries hold now, as the index has them."""
    refs = media_references.c
    found: dict[str, set[MediaReference]] = {}
    for chunk in _chunks(sorted(set(entry_ids))):
        rows = tx.execute(
            sa.select(refs.entry_id, refs.property, refs.target_id, refs.kind).where(
                refs.project == project, refs.entry_id.in_(chunk)
            )
        )
        for row in rows:
            reference = MediaReference(row.property, row.target_id, row.kind)
            found.setdefault(row.entry_id, set()).add(reference)
    return {entry_id: frozenset(references) for entry_id, references in found.items()}


@dataclass(frozen=True)
class NewEntry:
    """An entry to be written in the same transaction as others that may name it."""

    id: str
    kind: MediaKind
    mentions: list[Mention]


def refused_new_entries(
    tx: Tx, project: Project, batch: Sequence[NewEntry]
) -> dict[str, list[MetadataIssue]]:
    """The new entries of a batch whose references name no entry of the project, by id: an
    entry may name one written in the same batch (a video and its poster image), unless that
    one is refused too."""
    kinds = kinds_of(tx, project, (m for entry in batch for m in entry.mentions))
    kinds |= {entry.id: entry.kind for entry in batch}
    refused: dict[str, list[MetadataIssue]] = {}
    changed = True
    while changed:  # refusing one entry may refuse those that name it
        changed = False
        for entry in batch:
            if entry.id in refused or not entry.mentions:
                continue
            issues = problems(entry.mentions, frozenset(), kinds)
            if issues:
                refused[entry.id] = issues
                kinds.pop(entry.id, None)
                changed = True
    return refused


def referrers(tx: Tx, project: str, entry_id: str, limit: int) -> list[str]:
    """Up to `limit` other entries whose metadata names the entry, by id."""
    refs = media_references.c
    found = tx.execute(
        sa.select(refs.entry_id)
        .where(refs.project == project, refs.target_id == entry_id, refs.entry_id != entry_id)
        .distinct()
        .order_by(refs.entry_id)
        .limit(limit)
    )
    return [str(one) for one in found.scalars()]


# --- The index ---------------------------------------------------------------------------------


def record(
    tx: Tx,
    project: str,
    references: Mapping[str, Iterable[MediaReference]],
    *,
    new: bool = False,
) -> None:
    """Make the index say that each entry holds these references (and no others); `new`:
    the entries are new, and hold none yet."""
    refs = media_references.c
    if not new:
        for chunk in _chunks(sorted(references)):
            tx.execute(
                media_references.delete().where(refs.project == project, refs.entry_id.in_(chunk))
            )
    rows = [
        {
            "project": project,
            "entry_id": entry_id,
            "property": ref.property,
            "target_id": ref.target,
            "kind": ref.kind,
        }
        for entry_id, held_now in references.items()
        for ref in sorted(set(held_now))
        # An id no entry can have names none (a value stored before references were checked).
        if is_valid_entry_id(ref.target)
    ]
    if rows:
        tx.execute(media_references.insert(), rows)


def reindex(tx: Tx, project: Project, entry_ids: Iterable[str]) -> None:
    """Make the index say what the entries' stored metadata and translations say (for a write
    that replaced only some of them)."""
    entries = media_entries.c
    found: dict[str, frozenset[MediaReference]] = {}
    for chunk in _chunks(sorted(set(entry_ids))):
        rows = tx.execute(
            sa.select(entries.id, entries.media_type, entries.metadata, entries.translations).where(
                entries.project == project.handle, entries.id.in_(chunk)
            )
        )
        for row in rows:
            media_type = project.media_types.get(row.media_type)
            named = mentions(media_type, row.metadata, row.translations) if media_type else []
            found[row.id] = references_of(named)
    record(tx, project.handle, found)


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _IDS_PER_QUERY):
        yield ids[start : start + _IDS_PER_QUERY]


# --- Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Referrer:
    """An entry that names the entry asked about, with each reference it names it by."""

    entry_id: str
    references: list[MediaReference]


@dataclass(frozen=True)
class IncomingPage:
    total: int  # entries that name it, on every page
    referrers: list[Referrer]
    cursor: str | None  # after the last entry of this page; None on the last page


async def incoming(
    db: Database, project: str, entry_id: str, *, limit: int, offset: int, after: str | None
) -> IncomingPage:
    """The entries of the project whose metadata names the entry, by their ids, a page at a
    time: after the entry `after` (a cursor) or else from the `offset`th one."""
    if not is_valid_entry_id(entry_id):
        raise not_found(entry_id)
    refs = media_references.c
    naming = sa.and_(refs.project == project, refs.target_id == entry_id)
    ids = sa.select(refs.entry_id).where(naming).distinct().order_by(refs.entry_id)
    # A cursor continues after its entry; without one, the page starts at the offset.
    ids = ids.where(refs.entry_id > _decode(after)) if after is not None else ids.offset(offset)
    async with db.read() as conn:
        exists = await conn.scalar(
            sa.select(media_entries.c.id).where(
                media_entries.c.project == project, media_entries.c.id == entry_id
            )
        )
        if exists is None:
            raise not_found(entry_id)
        total = await conn.scalar(
            sa.select(sa.func.count(sa.distinct(refs.entry_id))).where(naming)
        )
        page = [str(found) for found in (await conn.scalars(ids.limit(limit + 1))).all()]
        more, page = len(page) > limit, page[:limit]
        rows = (
            await conn.execute(
                sa.select(refs.entry_id, refs.property, refs.target_id, refs.kind)
                .where(naming, refs.entry_id.in_(page))
                .order_by(refs.entry_id, refs.property, refs.kind)
            )
        ).all()
    by_entry: dict[str, list[MediaReference]] = {found: [] for found in page}
    for row in rows:
        by_entry[row.entry_id].append(MediaReference(row.property, row.target_id, row.kind))
    referrers = [Referrer(found, references) for found, references in by_entry.items()]
    cursor = _encode(page[-1]) if more and page else None
    return IncomingPage(int(total or 0), referrers, cursor)


def _encode(entry_id: str) -> str:
    return page_cursors.encode("m", entry_id)


def _decode(cursor: str) -> str:
    return page_cursors.decode("m", cursor, is_valid_entry_id)
