"""`/api/{version}/import/images`, `/import/files` and their `/status`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from medialib.api import schemas
from medialib.api.deps import Caller, caller, read_json, runtime
from medialib.api.openapi import json_body
from medialib.api.presenters import timestamp
from medialib.api.responses import JSONBody
from medialib.api.schemas import JobCreated, answers
from medialib.auth.tokens import WRITE
from medialib.imageservice import image_urls
from medialib.imports.jobs import JobStatus, create_job, job_status
from medialib.imports.requests import FilesIn, ImagesIn, Kind, parse_import
from medialib.runtime import Runtime

router = APIRouter(prefix="/api/{version}/import", tags=["imports"])


async def _start(request: Request, call: Caller, rt: Runtime, kind: Kind) -> JSONBody:
    raw = await read_json(request, rt.settings.max_body_bytes)
    parsed = parse_import(raw, kind, call.project, rt.settings.max_items_per_job)
    job_id = await create_job(
        rt.db,
        rt.queue,
        call.project,
        parsed,
        chunk_size=rt.settings.import_chunk_size,
        max_open_jobs=rt.settings.max_open_jobs,
    )
    return JSONBody({"id": job_id})


@router.post(
    "/images",
    summary="Import images from URLs (asynchronous: returns a job id)",
    responses=answers(JobCreated),
    openapi_extra=json_body(ImagesIn),
)
async def import_images(
    request: Request, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
) -> JSONBody:
    return await _start(request, call, rt, "image")


@router.post(
    "/files",
    summary="Import files from URLs (asynchronous: returns a job id)",
    responses=answers(JobCreated),
    openapi_extra=json_body(FilesIn),
)
async def import_files(
    request: Request, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
) -> JSONBody:
    return await _start(request, call, rt, "file")


@router.get(
    "/images/status",
    summary="The state and results of an image import",
    responses=answers(schemas.JobStatus),
)
async def images_status(
    id: str = Query(description="The job id from POST /import/images"),
    call: Caller = Depends(caller(WRITE)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    status = await job_status(rt.db, call.project.handle, "image", id)
    return JSONBody(status_json(status, rt))


@router.get(
    "/files/status",
    summary="The state and results of a file import",
    responses=answers(schemas.JobStatus),
)
async def files_status(
    id: str = Query(description="The job id from POST /import/files"),
    call: Caller = Depends(caller(WRITE)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    status = await job_status(rt.db, call.project.handle, "file", id)
    return JSONBody(status_json(status, rt))


def status_json(status: JobStatus, rt: Runtime) -> dict[str, Any]:
    job, progress = status.job, status.progress
    out: dict[str, Any] = {
        "finished": job.finished_at is not None,
        "state": job.state,
        "id": job.id,
        "startedAt": timestamp(job.started_at),
    }
    if job.finished_at is not None:
        out["finishedAt"] = timestamp(job.finished_at)
    out["progress"] = {
        "total": progress.total,
        "done": progress.done,
        "success": progress.success,
        "skipped": progress.skipped,
        "failed": progress.failed,
    }
    if job.webhook:
        out["webhook"] = {
            "state": job.webhook_state,
            "attempts": job.webhook_attempts,
            "lastStatusCode": job.webhook_status_code,
        }
    key = "images" if job.kind == "image" else "files"
    out[key] = [item_json(job, item, rt) for item in status.items]
    return out


def item_json(job: Any, item: Any, rt: Runtime) -> dict[str, Any]:
    out: dict[str, Any] = {"state": item.state, "status": item.state}
    if item.action:
        out["action"] = item.action
    if item.reason:
        out["reason"] = item.reason
    if item.reason_code:
        out["reasonCode"] = item.reason_code
    out["systemName"] = job.system_name
    out["externalId"] = item.external_id
    result = item.result or {}
    if job.kind == "image":
        out["title"] = item.file_name
        if result:
            urls = image_urls(result["key"], rt.settings.media_base_url, rt.config.imgix)
            out["image"] = {
                "mediaId": result["mediaId"],
                "originalUrl": urls.original_url,
                "url": urls.url,
                "width": result.get("width"),
                "height": result.get("height"),
                "mimeType": result.get("mimeType"),
                "imageService": urls.service,
            }
    else:
        out["fileName"] = item.file_name
        if result:
            out["mediaId"] = result["mediaId"]
    return out
