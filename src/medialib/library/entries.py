"""Media library entries: the synchronous import and the reads.

The import takes up to a batch of entries, judges each one on its own (one bad entry never
blocks the good ones), and writes all accepted entries in one transaction with one statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic
import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.search_index import index_new_entries
from medialib.db.tables import media_entries, utcnow
from medialib.db.upsert import insert_ignoring_conflicts
from medialib.errors import BadRequest, field_problems
from medialib.library import assets as asset_rules
from medialib.library import references
from medialib.library.analysis import defer_analysis
from medialib.library.crops import crops_outside
from medialib.library.events import Actor, EntryEvent, record_entry_events
from medialib.library.models import (
    ENTRY_ID_PATTERN,
    Entry,
    EntryIn,
    Failure,
    FailureKind,
    ImportOutcome,
    stored_objects,
)
from medialib.library.projects import Project
from medialib.library.repository import entry_from_row, entry_row, is_valid_entry_id, not_found
from medialib.library.tasks import settle_validity
from medialib.media.storage import Storage

MAX_IDS_PER_READ = 1000


def _validation(message: str, problems: dict[str, str] | None = None) -> Failure:
    """An invalid entry; `problems` map field paths to what is wrong there."""
    errors = [{"property": where, "message": what} for where, what in (problems or {}).items()]
    return Failure(FailureKind.INVALID, message, errors=errors)


def _invalid(subject: str, problems: dict[str, str]) -> Failure:
    listed = "; ".join(f"{where}: {what}" for where, what in problems.items())
    return _validation(f"Invalid {subject}: {listed}", problems)


def _id_taken(entry_id: str) -> Failure:
    return Failure(FailureKind.ID_TAKEN, f"id is not unique: '{entry_id}'")


def _external_id_taken(external_id: str) -> Failure:
    return Failure(FailureKind.ID_TAKEN, f"externalId is not unique: '{external_id}'")


@dataclass
class Candidate:
    index: int
    outcome: ImportOutcome
    row: dict[str, Any]
    assets: dict[str, dict[str, Any]]
    shared: set[str]  # keys the entry may share with other entries (its assets say so)
    # (where, key, sha256) of each asset that says its object's sha256: kept once checked
    hashes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def pair(self) -> tuple[str, str] | None:
        if self.row["external_id"] is None:
            return None
        return (self.row["system_name"], self.row["external_id"])


class EntryImporter:
    """Judges and writes one batch of `import/mediaLibrary` entries for one project."""

    def __init__(
        self, db: Database, storage: Storage, project: Project, actor: Actor | None = None
    ) -> None:
        self.db = db
        self.storage = storage
        self.project = project
        self.actor = actor  # who registers them, for their events

    async def run(self, raw_entries: Sequence[Any]) -> list[ImportOutcome]:
        outcomes: list[ImportOutcome] = []
        candidates: list[Candidate] = []
        now = utcnow()
        for index, raw in enumerate(raw_entries):
            outcome, candidate = judge_entry(self.project, index, raw, now)
            outcomes.append(outcome)
            if candidate is not None:
                candidates.append(candidate)
        candidates = self._drop_duplicates_within(candidates)
        candidates = await self._drop_unfaithful_assets(candidates)
        candidates = await self._drop_wrong_hashes(candidates)
        if candidates:
            await self._write(candidates)
        return outcomes

    @staticmethod
    def _drop_duplicates_within(candidates: list[Candidate]) -> list[Candidate]:
        """The first entry with an id or (systemName, externalId) wins; later ones are 409s."""
        ids: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        kept = []
        for candidate in candidates:
            pair = candidate.pair
            if candidate.row["id"] in ids:
                candidate.outcome.failure = _id_taken(candidate.row["id"])
            elif pair is not None and pair in pairs:
                candidate.outcome.failure = _external_id_taken(pair[1])
            else:
                ids.add(candidate.row["id"])
                if pair is not None:
                    pairs.add(pair)
                kept.append(candidate)
        return kept

    async def _drop_unfaithful_assets(self, candidates: list[Candidate]) -> list[Candidate]:
        """Assets are facts, not claims: each key needs a stored object, and its size, type and
        (for an image) dimensions must be what the entry says."""
        keys = {k for c in candidates for k in c.assets}
        barred = await asset_rules.not_takeable(self.db, self.project.handle, keys)
        facts = await asset_rules.facts_of(self.storage, keys - barred)
        kept = []
        for candidate in candidates:
            # Another project's object is reported like a missing one, before its bytes are
            # read: what the entry says of it must not be checked against them.
            absent = sorted(key for key in candidate.assets if facts.get(key) is None)
            if absent:
                candidate.outcome.failure = _no_object(absent)
                continue
            row = candidate.row
            paths = asset_rules.asset_paths(row["asset"], row["translations"])
            problems: dict[str, str] = {}
            for key, asset in candidate.assets.items():
                found = facts[key]
                assert found is not None
                problems |= asset_rules.fact_problems(asset, found, paths.get(key, "asset"))
            if problems:
                candidate.outcome.failure = _invalid("asset", problems)
            else:
                kept.append(candidate)
        return kept

    async def _drop_wrong_hashes(self, candidates: list[Candidate]) -> list[Candidate]:
        """An asset's sha256 (as the API shows a URL import's) is a fact too: it must be its
        object's, and only then is it kept, for URL imports to find the same bytes by. Checked
        after the other facts, so that only objects the project may take are read."""
        keys = {key for c in candidates for _, key, _ in c.hashes}
        if not keys:
            return candidates
        actual = await asset_rules.sha256_of(self.db, self.storage, self.project.handle, keys)
        kept = []
        for candidate in candidates:
            problems = {
                f"{where}.sha256": problem
                for where, key, claimed in candidate.hashes
                if (problem := asset_rules.sha256_problem(claimed, actual.get(key)))
            }
            if problems:
                candidate.outcome.failure = _invalid("asset", problems)
                continue
            for where, _, claimed in candidate.hashes:
                _asset_at(candidate.row, where)["sha256"] = claimed
            kept.append(candidate)
        return kept

    async def _write(self, candidates: list[Candidate]) -> None:
        written = await self.db.transact(lambda tx: self._insert(tx, candidates))
        for candidate in candidates:
            if candidate.row["id"] in written:
                candidate.outcome.entry = Entry(**candidate.row)

    def _insert(self, tx: Tx, candidates: list[Candidate]) -> set[str]:
        """One statement for the batch: rows whose id or pair is taken are skipped by the
        database (which also settles races with concurrent imports) and explained after."""
        described = {k: a for c in candidates for k, a in c.assets.items()}
        foreign = asset_rules.claim_assets(tx, self.project.handle, described)
        if foreign:
            candidates = self._drop_foreign_assets(candidates, foreign)
        candidates = self._drop_taken(tx, candidates)
        candidates = self._drop_unshared_keys(tx, candidates)
        candidates, named = self._drop_broken_references(tx, candidates)
        if not candidates:
            return set()
        inserted = tx.execute(
            insert_ignoring_conflicts(tx.conn, media_entries, media_entries.c.id),
            [c.row for c in candidates],
        )
        written = set(inserted.scalars())
        index_new_entries(tx)
        held = {entry_id: refs for entry_id, refs in named.items() if entry_id in written}
        references.record(tx, self.project.handle, held, new=True)
        asset_rules.remember_keys(
            tx,
            self.project.handle,
            {c.row["id"]: list(c.assets) for c in candidates if c.row["id"] in written},
        )
        shared = {key for c in candidates if c.row["id"] in written for key in c.shared}
        # A copy of a revoked entry is registered revoked: its objects are not served.
        revoked = {
            key
            for c in candidates
            if c.row["id"] in written and c.row["revoked"]
            for key in c.assets
        }
        asset_rules.refresh_revoked(tx, self.project.handle, sorted(shared | revoked))
        made = [c.row["id"] for c in candidates if c.row["id"] in written]
        # Registering reads no pixels: the pictures are analysed after the commit.
        defer_analysis(
            tx,
            self.project.handle,
            {c.row["id"]: c.row["asset"] for c in candidates if c.row["id"] in written},
        )
        settled = settle_validity(tx, self.project, made)
        record_entry_events(tx, self.project, EntryEvent.CREATE, made, self.actor)
        # An entry made invalid (or outside its validity) is a state change beside its create.
        for event, ids in settled.events():
            record_entry_events(tx, self.project, event, ids, self.actor)
        refused = [c for c in candidates if c.row["id"] not in written]
        if refused:
            self._explain_conflicts(tx, refused)
        return written

    def _explain_conflicts(self, tx: Tx, refused: list[Candidate]) -> None:
        """Give each refused candidate its 409: its id is taken, or else its pair is."""
        ids = [c.row["id"] for c in refused]
        taken_ids = set(
            tx.execute(
                sa.select(media_entries.c.id).where(
                    media_entries.c.project == self.project.handle, media_entries.c.id.in_(ids)
                )
            ).scalars()
        )
        for candidate in refused:
            if candidate.row["id"] in taken_ids or candidate.pair is None:
                candidate.outcome.failure = _id_taken(candidate.row["id"])
            else:
                candidate.outcome.failure = _external_id_taken(candidate.pair[1])

    def _drop_taken(self, tx: Tx, candidates: list[Candidate]) -> list[Candidate]:
        """Entries whose id or pair exists are 409s before their assets are judged (a race with
        a concurrent import is still settled by the insert)."""
        entries, project = media_entries.c, self.project.handle
        ids = [c.row["id"] for c in candidates]
        pairs = [c.pair for c in candidates if c.pair is not None]
        taken_ids = set(
            tx.execute(
                sa.select(entries.id).where(entries.project == project, entries.id.in_(ids))
            ).scalars()
        )
        taken_pairs: set[tuple[str, str]] = set()
        # One query per systemName with its externalIds: SQLite seeks the unique index for
        # `external_id IN (...)`, but reads every entry of the project for a row-value IN.
        for system_name, external_ids in _by_system(pairs).items():
            taken_pairs |= {
                (system_name, external_id)
                for external_id in tx.execute(
                    sa.select(entries.external_id).where(
                        entries.project == project,
                        entries.system_name == system_name,
                        entries.external_id.in_(external_ids),
                    )
                ).scalars()
            }
        kept = []
        for candidate in candidates:
            if candidate.row["id"] in taken_ids:
                candidate.outcome.failure = _id_taken(candidate.row["id"])
            elif candidate.pair is not None and candidate.pair in taken_pairs:
                candidate.outcome.failure = _external_id_taken(candidate.pair[1])
            else:
                kept.append(candidate)
        return kept

    def _drop_unshared_keys(self, tx: Tx, candidates: list[Candidate]) -> list[Candidate]:
        """An object is one entry's unless the entries that share it say so: a key another
        entry holds (or an earlier entry of this batch takes) is refused without `shared`."""
        keys = sorted({key for c in candidates for key in c.assets})
        held = {
            key: min(ids) for key, ids in asset_rules.holders(tx, self.project.handle, keys).items()
        }
        kept = []
        for candidate in candidates:
            taken = [k for k in sorted(candidate.assets) if k in held and k not in candidate.shared]
            if taken:
                problem = asset_rules.shared_key_problem(taken[0], held[taken[0]])
                candidate.outcome.failure = _invalid("asset", {"asset.key": problem})
                continue
            kept.append(candidate)
            for key in candidate.assets:
                held.setdefault(key, candidate.row["id"])
        return kept

    def _drop_broken_references(
        self, tx: Tx, candidates: list[Candidate]
    ) -> tuple[list[Candidate], dict[str, frozenset[references.MediaReference]]]:
        """Entries whose metadata names an entry the project does not have (nor this batch
        writes) are refused; the others, and the references each of them holds."""
        batch = []
        for candidate in candidates:
            row = candidate.row
            media_type = self.project.media_types[row["media_type"]]
            found = references.mentions(media_type, row["metadata"], row["translations"])
            batch.append(references.NewEntry(row["id"], media_type.kind, found))
        if not any(entry.mentions for entry in batch):
            return candidates, {}
        refused = references.refused_new_entries(tx, self.project, batch)
        kept = []
        for candidate in candidates:
            issues = refused.get(candidate.row["id"])
            if issues:
                failure = Failure(FailureKind.INVALID, "Metadata validation failed.", issues)
                candidate.outcome.failure = failure
            else:
                kept.append(candidate)
        named = {
            entry.id: references.references_of(entry.mentions)
            for entry in batch
            if entry.mentions and entry.id not in refused
        }
        return kept, named

    @staticmethod
    def _drop_foreign_assets(candidates: list[Candidate], foreign: set[str]) -> list[Candidate]:
        kept = []
        for candidate in candidates:
            # Another project's object is reported like a missing one: no project learns what
            # another one stored.
            absent = sorted(set(candidate.assets) & foreign)
            if absent:
                candidate.outcome.failure = _no_object(absent)
            else:
                kept.append(candidate)
        return kept


def _by_system(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for system_name, external_id in pairs:
        grouped.setdefault(system_name, []).append(external_id)
    return grouped


def judge_entry(
    project: Project, index: int, raw: Any, now: dt.datetime
) -> tuple[ImportOutcome, Candidate | None]:
    """One entry's outcome so far, and the row to write if nothing is wrong with it alone."""
    outcome = ImportOutcome(correlation=_correlation(index, raw))
    try:
        entry = EntryIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        outcome.failure = _invalid("entry", field_problems(exc, whole="entry"))
        return outcome, None
    row, assets, failure = _check(project, entry, now)
    if failure is not None:
        outcome.failure = failure
        return outcome, None
    hashes = _claimed_hashes(entry)
    return outcome, Candidate(index, outcome, row, assets, _shared_keys(entry), hashes)


def _claimed_hashes(entry: EntryIn) -> list[tuple[str, str, str]]:
    raws = [("asset", entry.asset)] + [
        (f"translations.{i}.asset", t.asset)
        for i, t in enumerate(entry.translations)
        if t.asset is not None
    ]
    return [
        (where, raw["key"], claimed)
        for where, raw in raws
        if (claimed := asset_rules.claimed_sha256(raw)) is not None
    ]


def _asset_at(row: dict[str, Any], where: str) -> dict[str, Any]:
    """The stored asset of a new entry's row at a request's path ("translations.2.asset")."""
    if where == "asset":
        asset: dict[str, Any] = row["asset"]
        return asset
    index = int(where.split(".")[1])
    translated: dict[str, Any] = row["translations"][index]["asset"]
    return translated


def _shared_keys(entry: EntryIn) -> set[str]:
    raws = [entry.asset] + [t.asset for t in entry.translations if t.asset is not None]
    return {
        key for raw in raws if asset_rules.shares_on_purpose(raw) for key in stored_objects(raw)
    }


def _check(
    project: Project, entry: EntryIn, now: dt.datetime
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], Failure | None]:
    fail: tuple[dict[str, Any], dict[str, dict[str, Any]]] = ({}, {})
    if entry.externalId is not None and entry.systemName is None:
        return *fail, _validation("An asset with an externalId also requires a systemName")
    if entry.id is not None and not is_valid_entry_id(entry.id):
        return *fail, _validation(
            f"id '{entry.id}' is invalid: use 1 to 32 of a-z, A-Z, 0-9 and -",
            {"id": "must match " + ENTRY_ID_PATTERN},
        )
    media_type = project.media_types.get(entry.mediaType)
    if media_type is None:
        known = ", ".join(project.media_types)
        return *fail, _validation(
            f"mediaType '{entry.mediaType}' is not a media type of this project ({known})",
            {"mediaType": f"must be one of {known}"},
        )
    asset, problems = asset_rules.check_asset(entry.asset, media_type)
    translations: list[dict[str, Any]] = []
    issues = media_type.schema.validate(entry.metadata or {})
    seen_locales: set[str] = set()
    for i, translation in enumerate(entry.translations):
        if translation.locale in seen_locales:
            problems[f"translations.{i}.locale"] = f"'{translation.locale}' is given twice"
        seen_locales.add(translation.locale)
        issues += media_type.schema.validate(
            translation.metadata, locale=translation.locale, partial=True
        )
        stored: dict[str, Any] = {
            "locale": translation.locale,
            "metadata": media_type.schema.stored(translation.metadata),
        }
        if translation.asset is not None:
            t_asset, t_problems = asset_rules.check_asset(
                translation.asset, media_type, f"translations.{i}.asset"
            )
            problems |= t_problems
            stored["asset"] = t_asset
        translations.append(stored)
    if problems:
        return *fail, _invalid("asset", problems)
    metadata = media_type.schema.stored(entry.metadata or {})
    if not issues:
        issues = crops_outside(media_type.schema, metadata, asset, translations)
    if issues:
        return *fail, Failure(FailureKind.INVALID, "Metadata validation failed.", issues)
    row = entry_row(
        project=project.handle,
        media_type=media_type.handle,
        asset=asset,
        metadata=metadata,
        now=now,
        entry_id=entry.id,
        system_name=entry.systemName,
        external_id=entry.externalId,
        translations=translations,
    )
    if entry.revoked:  # kept, with its note; `false` is what a new entry is anyway
        row |= {"revoked": True, "revoke_note": entry.revokeNote}
    if entry.archived:
        row["archived"] = True
    described = stored_objects(asset)
    for stored_translation in translations:
        if "asset" in stored_translation:
            described |= stored_objects(stored_translation["asset"])
    return row, described, None


def _no_object(keys: list[str]) -> Failure:
    problems = [f"asset.key: no stored object at '{key}'" for key in keys]
    errors = [{"property": "asset.key", "message": f"no stored object at '{key}'"} for key in keys]
    return Failure(FailureKind.INVALID, f"Invalid asset: {'; '.join(problems)}", errors=errors)


def _correlation(index: int, raw: Any) -> str:
    if isinstance(raw, dict):
        if isinstance(raw.get("id"), str):
            return f"id: {raw['id']}"
        if isinstance(raw.get("externalId"), str):
            return f"externalId: {raw['externalId']}"
    return f"index: {index}"


_ENTRY = sa.select(media_entries).where(
    media_entries.c.project == sa.bindparam("project"), media_entries.c.id == sa.bindparam("id")
)


async def get_entry(db: Database, project: str, entry_id: str) -> Entry:
    if not is_valid_entry_id(entry_id):
        raise not_found(entry_id)  # no entry can have such an id
    row = await db.first(_ENTRY, {"project": project, "id": entry_id})
    if row is None:
        raise not_found(entry_id)
    return entry_from_row(row)


async def find_entries(
    db: Database,
    project: str,
    *,
    ids: list[str] | None = None,
    system_name: str | None = None,
    external_ids: list[str] | None = None,
) -> list[Entry]:
    """Entries by ids or by a systemName's externalIds, in the order asked (unknown ones left
    out)."""
    query = sa.select(media_entries).where(media_entries.c.project == project)
    if ids:
        if len(ids) > MAX_IDS_PER_READ:
            raise BadRequest(details={"ids": f"at most {MAX_IDS_PER_READ} ids at once"})
        query = query.where(media_entries.c.id.in_([i for i in ids if is_valid_entry_id(i)]))
    elif external_ids:
        if system_name is None:
            raise BadRequest(details={"systemName": "externalId also requires a systemName"})
        if len(external_ids) > MAX_IDS_PER_READ:
            raise BadRequest(details={"externalIds": f"at most {MAX_IDS_PER_READ} at once"})
        storable = [one for one in external_ids if "\x00" not in one]  # NUL is never stored
        if "\x00" in system_name or not storable:
            return []
        query = query.where(
            media_entries.c.system_name == system_name,
            media_entries.c.external_id.in_(storable),
        )
    else:
        raise BadRequest(details={"ids": "give ids, or systemName and externalId"})
    async with db.read() as conn:
        entries = [entry_from_row(row) for row in (await conn.execute(query)).all()]
    if ids:
        position = {entry_id: i for i, entry_id in reversed(list(enumerate(ids)))}
        entries.sort(key=lambda e: position[e.id])
    elif external_ids:
        asked = {external_id: i for i, external_id in reversed(list(enumerate(external_ids)))}
        entries.sort(key=lambda e: asked[str(e.external_id)])
    return entries
