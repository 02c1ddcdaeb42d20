"""PATCH of one entry: a list of operations applied all together or not at all.

The request is checked completely before the entry is read; the operations then run on a copy
of the entry, and the copy is written (version + 1) only if every one of them succeeded.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pydantic
import sqlalchemy as sa

from medialib.db.engine import Database, Tx
from medialib.db.tables import media_entries, utcnow
from medialib.errors import BadRequest, Conflict, field_problems
from medialib.library import assets as asset_rules
from medialib.library import references, similar, usage_log
from medialib.library.analysis import defer_analysis, hash_of, kept_analysis
from medialib.library.crops import crops_outside
from medialib.library.events import Actor, EntryEvent, record_entry_changes
from medialib.library.metadata import MetadataIssue
from medialib.library.models import Entry, PatchIn, PatchRequestIn, stored_objects
from medialib.library.projects import Project
from medialib.library.repository import entry_from_row, is_valid_entry_id, not_found
from medialib.library.tasks import settle_validity
from medialib.media.storage import Storage
from medialib.parsing import whole_number

MAX_NOTE_LENGTH = 200


@dataclass(frozen=True)
class PatchRules:
    """What the caller's API version allows (see api/versions.py)."""

    operations: frozenset[str]
    revoke_conflicts: bool
    preserve_updated_at: bool


def parse_patch_request(raw: Any, rules: PatchRules) -> PatchRequestIn:
    """The request, or BadRequest naming every bad field path (`patches.0.operation`)."""
    try:
        request = PatchRequestIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise BadRequest(details=field_problems(exc)) from exc
    problems: dict[str, str] = {}
    if request.preserveUpdatedAt is not None and not rules.preserve_updated_at:
        problems["preserveUpdatedAt"] = "not available before API version 2026-03"
    if request.version is not None and whole_number(str(request.version)) is None:
        problems["version"] = "must be a whole number"
    for i, patch in enumerate(request.patches):
        problems |= _patch_problems(i, patch, rules)
    if problems:
        raise BadRequest(details=problems)
    return request


def _patch_problems(i: int, patch: PatchIn, rules: PatchRules) -> dict[str, str]:
    at = f"patches.{i}"
    if patch.operation not in rules.operations:
        return {f"{at}.operation": f'No enum match for: "{patch.operation}"'}
    problems: dict[str, str] = {}
    if patch.operation == "setMetadataProperty" and not patch.propertyName:
        problems[f"{at}.propertyName"] = "required for setMetadataProperty"
    if patch.operation == "replaceAsset" and not isinstance(patch.value, dict):
        problems[f"{at}.value"] = "replaceAsset needs the new asset object as value"
    if patch.operation == "removeAsset" and patch.locale is None:
        problems[f"{at}.locale"] = "The default locale asset cannot be removed"
    if patch.note is not None:
        if patch.operation != "revokeAsset":
            problems[f"{at}.note"] = "only revokeAsset takes a note"
        elif len(patch.note) > MAX_NOTE_LENGTH:
            problems[f"{at}.note"] = f"must NOT have more than {MAX_NOTE_LENGTH} characters"
    return problems | usage_log.patch_problems(at, patch)


@dataclass(frozen=True)
class Patched:
    """The entry as a patch left it and, when the patch revoked or unrevoked it, the other
    entries that share each of its objects on purpose (their URLs of that object are revoked
    while any of them is)."""

    entry: Entry
    shared: dict[str, list[str]]


class EntryPatcher:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        project: Project,
        rules: PatchRules,
        actor: Actor | None = None,
    ) -> None:
        self.db = db
        self.storage = storage
        self.project = project
        self.rules = rules
        self.actor = actor  # who changes the entry, for its events
        # Each key replaceAsset patches bring: where in the request, and whether it is shared.
        self._brought: dict[str, tuple[str, bool]] = {}
        # The sha256 each of those keys' assets said, once found to be its object's.
        self._verified: dict[str, str] = {}

    async def apply(self, entry_id: str, request: PatchRequestIn) -> Patched:
        if not is_valid_entry_id(entry_id):
            raise not_found(entry_id)
        new_assets = await self._new_assets(request)
        return await self.db.transact(lambda tx: self._patch(tx, entry_id, request, new_assets))

    def _refuse_unshared_keys(self, tx: Tx, entry_id: str, new_assets: dict[str, Any]) -> None:
        """A replaced asset's key that another entry holds needs `"shared": true`."""
        held = asset_rules.holders(tx, self.project.handle, sorted(new_assets))
        for key, (at, shared) in self._brought.items():
            others = held.get(key, set()) - {entry_id}
            if others and not shared:
                problem = asset_rules.shared_key_problem(key, min(others))
                raise BadRequest(details={f"{at}.key": problem})

    def _patch(
        self, tx: Tx, entry_id: str, request: PatchRequestIn, new_assets: dict[str, dict[str, Any]]
    ) -> Patched:
        query = sa.select(media_entries).where(
            media_entries.c.project == self.project.handle, media_entries.c.id == entry_id
        )
        if tx.is_postgres:
            query = query.with_for_update()
        row = tx.execute(query).first()
        if row is None:
            raise not_found(entry_id)
        entry = entry_from_row(row)
        if request.version is not None and int(request.version) != entry.version:
            message = f"Version: Expected {entry.version} to be equal to {request.version}"
            raise Conflict(message, details={"name": "Conflict", "message": message})
        logged = False  # whether a patch changed the entry's usage log
        for i, patch in enumerate(request.patches):
            if patch.operation in usage_log.OPERATIONS:
                usage_log.apply(tx, self.project, entry.id, f"patches.{i}", patch)
                logged = True
        if all(patch.operation in usage_log.OPERATIONS for patch in request.patches):
            # The usage log is beside the entry: its version and updatedAt stay as they were.
            record_entry_changes(tx, self.project, [EntryEvent.UPDATE], [entry.id], self.actor)
            return Patched(entry, {})
        patched = copy.deepcopy(entry)
        for i, patch in enumerate(request.patches):
            if patch.operation not in usage_log.OPERATIONS:
                self._apply_one(patched, i, patch, new_assets)
        self._refuse_crops_outside(patched, request)
        patched.version = entry.version + 1
        if not request.preserveUpdatedAt:
            patched.updated_at = utcnow()
        self._index_references(tx, entry, patched, request)
        foreign = asset_rules.claim_assets(tx, self.project.handle, new_assets)
        if foreign:
            key = min(foreign)
            at = self._brought.get(key, ("value", False))[0]
            raise BadRequest(details={f"{at}.key": f"no stored object at '{key}'"})
        self._refuse_unshared_keys(tx, entry.id, new_assets)
        # The entry's own keys too: revocation goes by the keys recorded as its (and an entry
        # copied from elsewhere, or made before they were recorded, may lack some).
        if patched.asset != entry.asset:
            patched.asset = kept_analysis(patched.asset, entry.asset)
        held = entry.asset_keys() + list(new_assets)
        asset_rules.remember_keys(tx, self.project.handle, {entry.id: held})
        tx.execute(
            media_entries.update()
            .where(media_entries.c.project == entry.project, media_entries.c.id == entry.id)
            .values(
                asset=patched.asset,
                metadata=patched.metadata,
                translations=patched.translations,
                version=patched.version,
                archived=patched.archived,
                revoked=patched.revoked,
                revoke_note=patched.revoke_note,
                updated_at=patched.updated_at,
            )
        )
        if patched.asset != entry.asset:
            # Another picture (or none): its near-duplicates are the new one's, once analysed.
            similar.record_hashes(tx, entry.project, {entry.id: hash_of(patched.asset)})
            defer_analysis(tx, entry.project, {entry.id: patched.asset})
        if patched.revoked != entry.revoked or new_assets:
            keys = asset_rules.keys_of(tx, entry.project, entry.id) + entry.asset_keys()
            asset_rules.refresh_revoked(tx, entry.project, keys)
        # What the metadata says of the entry's validity, now (an edit of li-invalid or of a
        # window acts at once; a look is deferred to each boundary ahead).
        state_events = settle_validity(tx, self.project, [entry.id]).events_of(entry.id)
        if state_events:
            patched.invalid = state_events[0] == EntryEvent.INVALID
        events = _events(entry, patched) + state_events
        if logged and EntryEvent.UPDATE not in events:
            events.append(EntryEvent.UPDATE)
        record_entry_changes(tx, self.project, events, [entry.id], self.actor)
        shared = {}
        if patched.revoked != entry.revoked:
            shared = asset_rules.sharing_entries(tx, entry.project, entry.id)
        return Patched(patched, shared)

    def _index_references(
        self, tx: Tx, before: Entry, after: Entry, request: PatchRequestIn
    ) -> None:
        """The references the patch adds to the entry's metadata must name entries of the
        project (those it held already are not checked again); the index follows the metadata."""
        media_type = self.project.media_types.get(after.media_type)
        if media_type is None:  # no patch but the usage log's gets here then
            return
        project = self.project.handle
        found = references.mentions(media_type, after.metadata, after.translations)
        indexed = references.held(tx, project, [after.id]).get(after.id, frozenset())
        now = references.references_of(found)
        if now == indexed:
            return
        # (What the entry held before, as its metadata says: also what predates the index.)
        was = indexed | references.references_of(
            references.mentions(media_type, before.metadata, before.translations)
        )
        added = [mention for mention in found if mention.reference not in was]
        issues = references.problems(added, was, references.kinds_of(tx, self.project, added))
        if issues:
            raise BadRequest(details={_where(request, issues[0]): issues[0].message()})
        references.record(tx, project, {after.id: now})

    async def _new_assets(self, request: PatchRequestIn) -> dict[str, dict[str, Any]]:
        """Objects that replaceAsset patches bring (an asset, a video's poster), each of which
        must be in storage already.

        Their shape depends on the entry's media type, so `_apply_one` checks it later.
        """
        found: dict[str, dict[str, Any]] = {}
        for i, patch in enumerate(request.patches):
            if patch.operation != "replaceAsset":
                continue
            shared = asset_rules.shares_on_purpose(patch.value)
            poster = patch.value.get("poster")
            brought = [(f"patches.{i}.value", patch.value)]
            if isinstance(poster, dict):
                brought.append((f"patches.{i}.value.poster", poster))
            for at, described in brought:
                key = described.get("key")
                if not isinstance(key, str):
                    raise BadRequest(details={f"{at}.key": "must be a valid key"})
                if problem := asset_rules.key_problem(key):
                    raise BadRequest(details={f"{at}.key": problem})
                barred = await asset_rules.not_takeable(self.db, self.project.handle, [key])
                # Another project's object is as missing, before any of its bytes is read.
                facts = None if barred else (await asset_rules.facts_of(self.storage, [key]))[key]
                if facts is None:
                    raise BadRequest(details={f"{at}.key": f"no stored object at '{key}'"})
                if problems := asset_rules.fact_problems(described, facts, at):
                    raise BadRequest(details=problems)
                await self._check_sha256(key, described, at)
                found[key] = described
                self._brought[key] = (at, shared)
        return found

    async def _check_sha256(self, key: str, described: dict[str, Any], at: str) -> None:
        """A replaced asset's sha256, as an import's, must be its object's (then it is kept)."""
        claimed = asset_rules.claimed_sha256(described)
        if claimed is None:
            return
        actual = await asset_rules.sha256_of(self.db, self.storage, self.project.handle, {key})
        if problem := asset_rules.sha256_problem(claimed, actual.get(key)):
            raise BadRequest(details={f"{at}.sha256": problem})
        self._verified[key] = claimed

    def _apply_one(
        self, entry: Entry, i: int, patch: PatchIn, new_assets: dict[str, dict[str, Any]]
    ) -> None:
        at = f"patches.{i}"
        op = patch.operation
        media_type = self.project.media_types.get(entry.media_type)
        if media_type is None:
            raise BadRequest(
                details={"mediaType": f"media type '{entry.media_type}' is no longer configured"}
            )
        if op == "setMetadataProperty":
            assert patch.propertyName is not None
            target = self._metadata_of(entry, patch.locale)
            issues = media_type.schema.validate_property(
                patch.propertyName, patch.value, patch.locale
            )
            if issues:
                raise BadRequest(details={f"{at}.value": issues[0].message()})
            if patch.value is None:
                target.pop(patch.propertyName, None)
            else:
                target[patch.propertyName] = media_type.schema.stored_value(
                    patch.propertyName, patch.value
                )
        elif op == "archive":
            entry.archived = True
        elif op == "replaceAsset":
            asset, problems = asset_rules.check_asset(patch.value, media_type, f"{at}.value")
            if problems:
                where, message = next(iter(problems.items()))
                raise BadRequest(details={where: message})
            new_assets |= stored_objects(asset)  # as checked, with the defaults filled in
            if (verified := self._verified.get(asset["key"])) is not None:
                asset["sha256"] = verified
            if patch.locale is None:
                entry.asset = asset
            else:
                self._translation(entry, patch.locale)["asset"] = asset
        elif op == "removeAsset":
            assert patch.locale is not None
            translation = self._find_translation(entry, patch.locale)
            if translation is None or "asset" not in translation:
                raise BadRequest(details={f"{at}.locale": f"no asset for locale '{patch.locale}'"})
            del translation["asset"]
        elif op == "revokeAsset":
            if entry.revoked and self.rules.revoke_conflicts:
                raise _state_conflict(f"MediaLibrary Entry is already revoked (id: '{entry.id}')")
            if not entry.revoked:
                entry.revoked = True
                entry.revoke_note = patch.note
        elif op == "unrevokeAsset":
            if not entry.revoked and self.rules.revoke_conflicts:
                raise _state_conflict(f"MediaLibrary Entry is not revoked (id: '{entry.id}')")
            entry.revoked = False
            entry.revoke_note = None

    def _refuse_crops_outside(self, patched: Entry, request: PatchRequestIn) -> None:
        """Named crops the patched entry's image does not hold are refused at the patch that
        set them, or else at the one that changed the image under them. Crops stored before
        and left alone by this request are not this request's to refuse."""
        media_type = self.project.media_types.get(patched.media_type)
        if media_type is None:
            return
        found = crops_outside(
            media_type.schema, patched.metadata, patched.asset, patched.translations
        )
        for issue in found:
            translation = self._find_translation(patched, issue.locale) if issue.locale else None
            own_image = bool(translation and translation.get("asset"))
            if (i := _cause(request, issue.property, issue.locale, own_image)) is not None:
                raise BadRequest(details={f"patches.{i}.value": issue.message()})

    @staticmethod
    def _find_translation(entry: Entry, locale: str) -> dict[str, Any] | None:
        return next((t for t in entry.translations if t["locale"] == locale), None)

    def _translation(self, entry: Entry, locale: str) -> dict[str, Any]:
        """The translation for `locale`, made empty when there is none yet."""
        translation = self._find_translation(entry, locale)
        if translation is None:
            translation = {"locale": locale, "metadata": {}}
            entry.translations.append(translation)
        return translation

    def _metadata_of(self, entry: Entry, locale: str | None) -> dict[str, Any]:
        if locale is None:
            return entry.metadata
        metadata: dict[str, Any] = self._translation(entry, locale)["metadata"]
        return metadata


def _cause(request: PatchRequestIn, handle: str, locale: str | None, own_image: bool) -> int | None:
    """The last patch that set property `handle` (of `locale`), else the last that replaced or
    removed the image it stands on: a translation's own (`own_image`), else the entry's."""
    images = {locale} if own_image else {None, locale}
    last_set = last_image = None
    for i, patch in enumerate(request.patches):
        if patch.operation == "setMetadataProperty" and (patch.propertyName, patch.locale) == (
            handle,
            locale,
        ):
            last_set = i
        elif patch.operation in ("replaceAsset", "removeAsset") and patch.locale in images:
            last_image = i
    return last_set if last_set is not None else last_image


def _events(before: Entry, after: Entry) -> list[EntryEvent]:
    """What a patch did, as change events: archive, revoke or unrevoke, and update when what
    the entry says (metadata, assets, translations) changed."""
    events = []
    if after.archived and not before.archived:
        events.append(EntryEvent.ARCHIVE)
    if after.revoked != before.revoked:
        events.append(EntryEvent.REVOKE if after.revoked else EntryEvent.UNREVOKE)
    said = (before.metadata, before.asset, before.translations)
    if (after.metadata, after.asset, after.translations) != said:
        events.append(EntryEvent.UPDATE)
    return events


def _where(request: PatchRequestIn, issue: MetadataIssue) -> str:
    """The value of the last patch that set the property an issue is about."""
    for i, patch in reversed(list(enumerate(request.patches))):
        if (
            patch.operation == "setMetadataProperty"
            and patch.propertyName == issue.property
            and patch.locale == issue.locale
        ):
            return f"patches.{i}.value"
    return "patches"


def _state_conflict(message: str) -> Conflict:
    return Conflict(message, details={"name": "Conflict", "message": message})
