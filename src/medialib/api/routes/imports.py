"""`/api/{version}/import/{plural}` and `/import/{plural}/status`, one pair per import kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Query, Request

from medialib.api.deps import Caller, caller, read_json, runtime
from medialib.api.openapi import json_body
from medialib.api.presenters import status_json
from medialib.api.responses import JSONBody
from medialib.api.schemas import JobCreated, answers, job_status_of
from medialib.auth.tokens import WRITE
from medialib.bootstrap import Runtime
from medialib.imports.jobs import job_status
from medialib.imports.kinds import KINDS, ImportKind
from medialib.imports.requests import parse_import, request_model
from medialib.imports.service import start_job

router = APIRouter(prefix="/api/{version}/import", tags=["imports"])


def _starter(kind: ImportKind) -> Callable[..., Awaitable[JSONBody]]:
    async def start(
        request: Request, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
    ) -> JSONBody:
        raw = await read_json(request, rt.settings.max_body_bytes)
        parsed = parse_import(raw, kind, call.project, rt.settings.max_items_per_job)
        job_id = await start_job(
            rt.db,
            call.project,
            parsed,
            chunk_size=rt.settings.import_chunk_size,
            max_open_jobs=rt.settings.max_open_jobs,
        )
        return JSONBody({"id": job_id})

    return start


def _status_reader(kind: ImportKind) -> Callable[..., Awaitable[JSONBody]]:
    async def read_status(
        id: str = Query(description=f"The job id from POST /import/{kind.plural}"),
        call: Caller = Depends(caller(WRITE)),
        rt: Runtime = Depends(runtime),
    ) -> JSONBody:
        status = await job_status(rt.db, call.project.handle, kind, id)
        return JSONBody(status_json(status, rt.urls))

    return read_status


for _kind in KINDS:
    router.add_api_route(
        f"/{_kind.plural}",
        _starter(_kind),
        methods=["POST"],
        name=f"import_{_kind.plural}",
        summary=f"Import {_kind.plural} from URLs (asynchronous: returns a job id)",
        responses=answers(JobCreated),
        openapi_extra=json_body(request_model(_kind)),
    )
    router.add_api_route(
        f"/{_kind.plural}/status",
        _status_reader(_kind),
        methods=["GET"],
        name=f"{_kind.plural}_status",
        summary=f"The state and results of an import of {_kind.plural}",
        responses=answers(job_status_of(_kind)),
    )
