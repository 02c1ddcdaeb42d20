"""`/api/{version}/import/mediaLibrary` and `/api/{version}/mediaLibrary…`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from medialib.api.deps import Caller, caller, parse_model, read_json, runtime
from medialib.api.openapi import json_body
from medialib.api.presenters import entry_json, outcome_json
from medialib.api.responses import JSONBody
from medialib.api.schemas import (
    EntryList,
    EntryOut,
    ImportResults,
    KeyList,
    PatchDone,
    answers,
)
from medialib.api.serving import serve_object
from medialib.auth.tokens import READ, WRITE
from medialib.bootstrap import Runtime
from medialib.errors import BadRequest, Forbidden, NotFound
from medialib.library.assets import stored_asset
from medialib.library.entries import EntryImporter, find_entries, get_entry
from medialib.library.models import EntryIn, PatchRequestIn
from medialib.library.patches import EntryPatcher, PatchRules, parse_patch_request
from medialib.library.renditions import keys_of_entry

router = APIRouter(prefix="/api/{version}", tags=["media library"])


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
    openapi_extra=json_body(ImportMediaLibraryDoc),
)
async def import_media_library(
    request: Request,
    call: Caller = Depends(caller(WRITE)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    body = parse_model(
        ImportMediaLibraryRequest, await read_json(request, rt.settings.max_body_bytes)
    )
    limit = rt.settings.max_entries_per_request
    if len(body.mediaLibraryEntries) > limit:
        raise BadRequest(
            details={
                "mediaLibraryEntries": f"At most {limit} entries per request; "
                f"got {len(body.mediaLibraryEntries)}. Split them into several requests."
            }
        )
    outcomes = await EntryImporter(rt.db, rt.storage, call.project).run(body.mediaLibraryEntries)
    urls = rt.urls
    return JSONBody(
        {call.version.list_key: [outcome_json(o, call.version, urls) for o in outcomes]}
    )


@router.get(
    "/mediaLibrary",
    summary="Get entries by ids, or by systemName and externalId",
    responses=answers(EntryList),
)
async def list_entries(
    ids: str | None = Query(default=None, description="Comma separated entry ids"),
    system_name: str | None = Query(default=None, alias="systemName"),
    external_id: str | None = Query(default=None, alias="externalId"),
    call: Caller = Depends(caller(READ)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    wanted = [part for part in (ids or "").split(",") if part] or None
    entries = await find_entries(
        rt.db, call.project.handle, ids=wanted, system_name=system_name, external_id=external_id
    )
    urls = rt.urls
    return JSONBody({call.version.list_key: [entry_json(e, urls) for e in entries]})


@router.get(
    "/mediaLibrary/serve-image/{key:path}",
    summary="Serve an image in its original size, unless its entry is revoked",
    response_class=Response,
    responses={
        200: {"description": "The image's bytes", "content": {"image/*": {}}},
        **answers(None, 401, 403, 404),
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


@router.get("/mediaLibrary/{id}", summary="Get one entry", responses=answers(EntryOut))
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
    openapi_extra=json_body(PatchRequestIn),
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
        revoke_note=version.revoke_note,
        preserve_updated_at=version.preserve_updated_at,
    )
    patch = parse_patch_request(await read_json(request, rt.settings.max_body_bytes), rules)
    await EntryPatcher(rt.db, rt.storage, call.project, rules).apply(id, patch)
    return JSONBody({"status": 200})
