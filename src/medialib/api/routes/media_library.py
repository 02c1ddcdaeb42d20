"""`/api/{version}/import/mediaLibrary` and `/api/{version}/mediaLibrary…`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from medialib.api.deps import Caller, caller, parse_model, read_json, runtime
from medialib.api.openapi import LIST_KEY, json_body, leads_to, link, only_where
from medialib.api.presenters import (
    document_references_json,
    entry_json,
    media_references_json,
    outcome_json,
    similar_json,
    usage_log_entry_json,
)
from medialib.api.responses import JSONBody
from medialib.api.schemas import (
    DocumentReferences,
    EntryList,
    EntryOut,
    ImportResults,
    KeyList,
    MediaReferences,
    PatchDone,
    UsageLog,
    answers,
)
from medialib.api.serving import serve_object
from medialib.auth.tokens import READ, WRITE
from medialib.bootstrap import Runtime
from medialib.errors import BadRequest, Forbidden, NotFound
from medialib.library.assets import stored_asset
from medialib.library.browse import Browse, browse
from medialib.library.entries import EntryImporter, find_entries, get_entry
from medialib.library.models import EntryIn, PatchRequestIn
from medialib.library.patches import EntryPatcher, PatchRules, parse_patch_request
from medialib.library.references import MAX_PAGE, incoming
from medialib.library.removal import delete_entry
from medialib.library.renditions import keys_of_entry
from medialib.library.similar import similar_entries
from medialib.library.usage_log import MAX_REFERENCES_PAGE, document_references, usage_log
from medialib.parsing import in_utc

router = APIRouter(prefix="/api/{version}", tags=["media library"])

_ENTRY = "/api/{version}/mediaLibrary/{id}"
_READ = f"GET {_ENTRY}"
_FIRST = f"$response.body#/{LIST_KEY}/0/id"


def _entry_links(entry_id: str, which: str) -> dict[str, dict[str, Any]]:
    """What an entry's id leads to: changing and deleting the entry, and its keys."""
    return {
        "patch": link(f"PATCH {_ENTRY}", f"Change {which}", id=entry_id),
        "delete": link(f"DELETE {_ENTRY}", f"Delete {which}", id=entry_id),
        "keys": link(f"GET {_ENTRY}/keys", f"Every key {which} has or had", id=entry_id),
    }


def _first_entry_links(which: str) -> dict[str, dict[str, Any]]:
    return {"entry": link(_READ, f"Read {which}", id=_FIRST), **_entry_links(_FIRST, which)}


class ImportMediaLibraryRequest(BaseModel):
    """Each entry is judged on its own, so entries are only checked to be a list here."""

    model_config = ConfigDict(extra="forbid")

    mediaLibraryEntries: list[Any]


class ImportMediaLibraryDoc(BaseModel):
    mediaLibraryEntries: list[EntryIn] = Field(description="At most 1000 entries (a setting).")


@router.post(
    "/import/mediaLibrary",
    summary="Import media library entries whose assets are stored already",
    responses=answers(ImportResults),
    openapi_extra=json_body(ImportMediaLibraryDoc)
    | leads_to(**_first_entry_links("the first entry")),
)
async def import_media_library(
    request: Request,
    call: Caller = Depends(caller(WRITE)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    body = parse_model(ImportMediaLibraryRequest, await read_json(request))
    limit = rt.settings.max_entries_per_request
    if len(body.mediaLibraryEntries) > limit:
        raise BadRequest(
            details={
                "mediaLibraryEntries": f"At most {limit} entries per request; "
                f"got {len(body.mediaLibraryEntries)}. Split them into several requests."
            }
        )
    importer = EntryImporter(rt.db, rt.storage, call.project, call.actor)
    outcomes = await importer.run(body.mediaLibraryEntries)
    urls = rt.urls
    return JSONBody(
        {call.version.list_key: [outcome_json(o, call.version, urls) for o in outcomes]}
    )


@router.get(
    "/mediaLibrary",
    summary="Entries by ids, by systemName and externalId, or else the library newest first",
    responses=answers(EntryList),
    openapi_extra=leads_to(
        **_first_entry_links("the first entry listed"),
        next=link(
            "GET /api/{version}/mediaLibrary", "The next page", cursor="$response.body#/cursor"
        ),
    ),
)
async def list_entries(
    ids: str | None = Query(default=None, description="Comma separated entry ids"),
    system_name: str | None = Query(default=None, alias="systemName", max_length=200),
    external_id: str | None = Query(default=None, alias="externalId"),
    external_ids: str | None = Query(
        default=None,
        alias="externalIds",
        description="Comma separated externalIds of one systemName (the original's name)",
    ),
    media_type: str | None = Query(default=None, alias="mediaType", max_length=100),
    created_after: dt.datetime | None = Query(default=None, alias="createdAfter"),
    created_before: dt.datetime | None = Query(default=None, alias="createdBefore"),
    updated_after: dt.datetime | None = Query(default=None, alias="updatedAfter"),
    archived: bool | None = Query(default=None),
    revoked: bool | None = Query(default=None),
    q: str | None = Query(
        default=None, max_length=500, description="Words of the metadata's text or file name"
    ),
    similar_to: str | None = Query(
        default=None,
        alias="similarTo",
        max_length=100,
        description="An entry's id: its near-duplicates, closest first, each with "
        "`similarity.distance` (takes `limit` only)",
    ),
    limit: int = Query(default=50, ge=1, le=100),
    cursor: str | None = Query(default=None, description="The `cursor` of the page before"),
    call: Caller = Depends(caller(READ)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    urls, key = rt.urls, call.version.list_key
    if similar_to is not None:
        given = dict(
            ids=ids, systemName=system_name, externalId=external_id, externalIds=external_ids,
            mediaType=media_type, createdAfter=created_after, createdBefore=created_before,
            updatedAfter=updated_after, archived=archived, revoked=revoked, q=q, cursor=cursor,
        )  # fmt: skip
        _refuse_besides_similar_to([name for name, value in given.items() if value is not None])
        near = await similar_entries(rt.db, call.project, similar_to, limit)
        return JSONBody({key: [similar_json(e, apart, urls) for e, apart in near], "cursor": None})
    if ids is not None or external_id is not None or external_ids is not None:
        wanted = [part for part in (ids or "").split(",") if part] or None
        externals = [external_id] if external_id is not None else []
        externals += [part for part in (external_ids or "").split(",") if part]
        if external_ids is not None and not externals:
            raise BadRequest(details={"externalIds": "name at least one externalId"})
        entries = await find_entries(
            rt.db,
            call.project.handle,
            ids=wanted,
            system_name=system_name,
            external_ids=externals or None,
        )
        return JSONBody({key: [entry_json(e, urls) for e in entries]})
    ask = Browse(
        media_type=media_type,
        system_name=system_name,
        created_after=_utc("createdAfter", created_after),
        created_before=_utc("createdBefore", created_before),
        updated_after=_utc("updatedAfter", updated_after),
        archived=archived,
        revoked=revoked,
        q=q,
        limit=limit,
        cursor=cursor,
    )
    page = await browse(rt.db, call.project, ask)
    return JSONBody({key: [entry_json(e, urls) for e in page.entries], "cursor": page.cursor})


def _refuse_besides_similar_to(given: list[str]) -> None:
    """`similarTo` lists one page, closest first: neither filters nor cursors apply to it."""
    if given:
        raise BadRequest(
            details={"similarTo": f"takes only limit, not {', '.join(given)}"},
        )


def _utc(name: str, when: dt.datetime | None) -> dt.datetime | None:
    """The time in UTC (a time without a zone is taken as UTC); one whose UTC time is outside
    the calendar (0001-01-01T00:00:00+14:00) is a 400 naming the parameter."""
    if when is None:
        return None
    found = in_utc(when)
    if found is None:
        raise BadRequest(details={name: "must be a time from 0001-01-01 to 9999-12-31 in UTC"})
    return found


@router.get(
    "/mediaLibrary/serve-image/{key:path}",
    summary="Serve an image in its original size, unless its entry is revoked or invalid",
    response_class=Response,
    responses={
        200: {"description": "The image's bytes", "content": {"image/*": {}}},
        **answers(None, 401, 403, 404, 410, 429, 503),
    },
)
async def serve_image(
    key: str,
    request: Request,
    call: Caller = Depends(caller(READ)),
    rt: Runtime = Depends(runtime),
) -> Response:
    missing = NotFound(details={"message": "No image found."})
    asset = await stored_asset(rt.db, key)
    if asset is None or asset.project != call.project.handle:
        raise missing
    if not asset.mime_type.startswith("image/"):
        raise missing
    if asset.revoked:
        raise Forbidden(details={"message": "The requested image is revoked or marked as invalid"})
    return await serve_object(request, rt.storage, key, asset.mime_type, missing)


@router.get(
    "/mediaLibrary/{id}/keys",
    summary="Every key an entry has or had, with its renditions (for purging a CDN)",
    responses=answers(KeyList),
    openapi_extra=only_where("entry_keys"),
)
async def entry_keys(
    id: str,
    call: Caller = Depends(caller(READ)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    if not call.version.entry_keys:
        raise NotFound(details={"message": "This endpoint needs API version 2026-03 or later."})
    keys = await keys_of_entry(rt.db, rt.storage, call.project.handle, id)
    return JSONBody({"results": keys})


@router.get(
    "/mediaLibrary/{id}/usageLog",
    summary="An entry's usage log: where and when it was (or is to be) published",
    responses=answers(UsageLog),
    openapi_extra=only_where("usage_log")
    | leads_to(
        patch=link(
            f"PATCH {_ENTRY}", "Add to, change or remove from the log", id="$request.path.id"
        )
    ),
)
async def entry_usage_log(
    id: str,
    call: Caller = Depends(caller(READ)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    if not call.version.usage_log:
        raise NotFound(details={"message": "This endpoint needs API version 2026-05 or later."})
    log = await usage_log(rt.db, call.project.handle, id)
    return JSONBody({"results": [usage_log_entry_json(usage) for usage in log]})


@router.get(
    "/mediaLibrary/{id}/incomingDocumentReferences",
    summary="The documents that use an entry, as far as medialib knows: those its usage log names",
    responses=answers(DocumentReferences),
)
async def incoming_document_references(
    id: str,
    limit: int = Query(default=MAX_REFERENCES_PAGE, ge=1, le=MAX_REFERENCES_PAGE),
    offset: int = Query(default=0, ge=0, le=2**31 - 1),
    after: str | None = Query(
        default=None, max_length=64, description="The `cursor` of the page before (2026-01 on)"
    ),
    call: Caller = Depends(caller(READ)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    page = await document_references(
        rt.db, call.project, id, limit=limit, offset=offset, after=after
    )
    return JSONBody(document_references_json(page, id, call.version))


@router.get(
    "/mediaLibrary/{id}/incomingMediaReferences",
    summary="The entries whose metadata names an entry (li-image, li-poster-image, "
    "li-video-reference)",
    responses=answers(MediaReferences),
)
async def incoming_media_references(
    id: str,
    limit: int = Query(default=MAX_PAGE, ge=1, le=MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=2**31 - 1),
    after: str | None = Query(
        default=None, max_length=64, description="The `cursor` of the page before (2026-01 on)"
    ),
    call: Caller = Depends(caller(READ)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    page = await incoming(rt.db, call.project.handle, id, limit=limit, offset=offset, after=after)
    return JSONBody(media_references_json(page, call.version))


@router.get(
    "/mediaLibrary/{id}",
    summary="Get one entry",
    responses=answers(EntryOut),
    openapi_extra=leads_to(
        **_entry_links("$response.body#/id", "the entry"),
        asset=link("GET /media/{key}", "The entry's asset", key="$response.body#/asset/key"),
    ),
)
async def read_entry(
    id: str,
    call: Caller = Depends(caller(READ)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    entry = await get_entry(rt.db, call.project.handle, id)
    return JSONBody(entry_json(entry, rt.urls))


@router.patch(
    "/mediaLibrary/{id}",
    summary="Change an entry: metadata, archive, assets, revocation",
    responses=answers(PatchDone),
    openapi_extra=json_body(PatchRequestIn)
    | leads_to(entry=link(_READ, "The entry as changed", id="$request.path.id")),
)
async def patch_entry(
    id: str,
    request: Request,
    call: Caller = Depends(caller(WRITE)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    version = call.version
    rules = PatchRules(
        operations=version.patch_operations,
        revoke_conflicts=version.revoke_conflicts,
        preserve_updated_at=version.preserve_updated_at,
    )
    patch = parse_patch_request(await read_json(request), rules)
    patcher = EntryPatcher(rt.db, rt.storage, call.project, rules, call.actor)
    patched = await patcher.apply(id, patch)
    if patched.shared:  # a revocation that reaches other entries says so
        shared = [{"key": key, "entries": ids} for key, ids in patched.shared.items()]
        return JSONBody({"status": 200, "sharedWith": shared})
    return JSONBody({"status": 200})


@router.delete(
    "/mediaLibrary/{id}",
    summary="Delete an entry; its objects go when no other entry points at them",
    responses=answers(PatchDone),
    openapi_extra=leads_to(entry=link(_READ, "The entry, gone", id="$request.path.id")),
)
async def remove_entry(
    id: str,
    call: Caller = Depends(caller(WRITE)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    await delete_entry(rt.db, call.project, id, call.actor)
    return JSONBody({"status": 200})
