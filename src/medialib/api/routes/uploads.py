"""`POST /api/{version}/mediaLibrary/uploads` (where to put a file) and `PUT /uploads/{key}`
(the local store's signed upload URL)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from medialib.api.deps import Caller, caller, read_json, runtime
from medialib.api.openapi import json_body
from medialib.api.queries import only_known_query
from medialib.api.responses import JSONBody
from medialib.api.schemas import PatchDone, UploadOut, answers
from medialib.auth.tokens import WRITE
from medialib.bootstrap import Runtime
from medialib.errors import Forbidden
from medialib.library.uploads import (
    UploadIn,
    UploadTerms,
    check_terms,
    largest_upload,
    parse_upload,
    receive,
    start_upload,
)
from medialib.media.storage import is_valid_key

router = APIRouter(tags=["uploads"])


@router.post(
    "/api/{version}/mediaLibrary/uploads",
    summary="Where to PUT a file before registering it with the synchronous import",
    responses=answers(UploadOut),
    openapi_extra=json_body(UploadIn),
)
async def new_upload(
    request: Request, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
) -> JSONBody:
    raw = await read_json(request)
    asked = parse_upload(raw, largest_upload(call.project, rt.settings))
    upload = await start_upload(
        rt.db, rt.storage, rt.secret, call.project.handle, asked, base_url=str(request.base_url)
    )
    return JSONBody(
        {
            "key": upload.key,
            "uploadUrl": upload.url,
            "headers": upload.headers,
            "expiresAt": upload.expires_at.isoformat().replace("+00:00", "Z"),
        }
    )


@router.put(
    "/uploads/{key:path}",
    summary="The bytes of an upload (the URL comes from POST …/mediaLibrary/uploads)",
    # Before the signed terms are read: an unknown parameter is named, not a missing one.
    dependencies=[Depends(only_known_query)],
    responses=answers(PatchDone, 400, 403, 409, 413),
)
async def put_upload(
    key: str,
    request: Request,
    project: str = Query(max_length=100),
    size: int = Query(ge=1),
    type: str = Query(max_length=200),
    expires: int = Query(ge=0),
    signature: str = Query(max_length=64),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    if not is_valid_key(key):
        raise Forbidden(details={"key": "is not a key medialib gives"})
    terms = UploadTerms(project, key, size, type, expires)
    check_terms(rt.secret, terms, signature)
    await receive(rt.storage, rt.settings.temp_dir, terms, request.stream())
    return JSONBody({"status": 200})
