"""`/api/{version}/import/{plural}` and `/import/{plural}/status`, one pair per import kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Query, Request

from medialib.api.deps import Caller, caller, read_json, runtime
from medialib.api.openapi import json_body, leads_to, link
from medialib.api.presenters import job_summary_json, status_json
from medialib.api.responses import JSONBody
from medialib.api.schemas import JobCreated, JobList, JobSummary, answers, job_status_of
from medialib.auth.tokens import WRITE
from medialib.bootstrap import Runtime
from medialib.errors import BadRequest
from medialib.imports.jobs import ItemFilter, ItemPage, JobState, job_status, list_jobs
from medialib.imports.kinds import KINDS, ImportKind
from medialib.imports.requests import parse_import, request_model
from medialib.imports.service import cancel_job, start_job
from medialib.parsing import whole_number

router = APIRouter(prefix="/api/{version}/import", tags=["imports"])
_CANCEL = "POST /api/{version}/import/jobs/{id}/cancel"
_NEWEST = "$response.body#/jobs/0/id"


def _status_of(kind: ImportKind) -> str:
    return f"GET /api/{{version}}/import/{kind.plural}/status"


def _starter(kind: ImportKind) -> Callable[..., Awaitable[JSONBody]]:
    async def start(
        request: Request, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
    ) -> JSONBody:
        raw = await read_json(request)
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
        items: ItemFilter = Query(
            ItemFilter.ALL, description="The finished items shown: all, failed or none"
        ),
        limit: int | None = Query(
            None, ge=1, le=1000, description="At most this many items, and a `cursor` for more"
        ),
        cursor: str | None = Query(None, description="The `cursor` of the page before"),
        call: Caller = Depends(caller(WRITE)),
        rt: Runtime = Depends(runtime),
    ) -> JSONBody:
        page = ItemPage(items, limit, _position(cursor))
        status = await job_status(rt.db, call.project.handle, kind, id, page)
        body = status_json(status, rt.urls)
        if limit is not None:
            full = len(status.items) == limit
            body["cursor"] = str(status.items[-1].position) if full else None
        return JSONBody(body)

    return read_status


def _position(cursor: str | None) -> int:
    if cursor is None:
        return -1
    position = whole_number(cursor, max_digits=9)
    if position is None:
        raise BadRequest("bad cursor", details={"cursor": "is not a cursor this API gave"})
    return position


@router.get(
    "/jobs",
    summary="The project's import jobs, newest first, with their progress",
    responses=answers(JobList),
    openapi_extra=leads_to(
        next=link(
            "GET /api/{version}/import/jobs", "The next page", cursor="$response.body#/cursor"
        ),
        cancel=link(_CANCEL, "Cancel the newest job", id=_NEWEST),
        **{
            f"{kind.plural}Status": link(
                _status_of(kind), f"The newest job's state, if it imports {kind.plural}", id=_NEWEST
            )
            for kind in KINDS
        },
    ),
)
async def list_import_jobs(
    kind: str | None = Query(
        None, pattern="^(image|file|video)$", description="image, file or video"
    ),
    state: JobState | None = Query(None, description="started, success or failed"),
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = Query(None, description="The `cursor` of the page before"),
    call: Caller = Depends(caller(WRITE)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    page = await list_jobs(
        rt.db, call.project.handle, kind=kind, state=state, limit=limit, cursor=cursor
    )
    return JSONBody({"jobs": [job_summary_json(s) for s in page.jobs], "cursor": page.next_cursor})


@router.post(
    "/jobs/{id}/cancel",
    summary="Stop a running job: its unfinished items fail with reason code `cancelled`",
    responses=answers(JobSummary),
)
async def cancel_import_job(
    id: str, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
) -> JSONBody:
    return JSONBody(job_summary_json(await cancel_job(rt.db, call.project.handle, id)))


for _kind in KINDS:
    router.add_api_route(
        f"/{_kind.plural}",
        _starter(_kind),
        methods=["POST"],
        name=f"import_{_kind.plural}",
        summary=f"Import {_kind.plural} from URLs (asynchronous: returns a job id)",
        responses=answers(JobCreated),
        openapi_extra=json_body(request_model(_kind))
        | leads_to(
            status=link(_status_of(_kind), "The job's state", id="$response.body#/id"),
            cancel=link(
                _CANCEL,
                "Cancel the job",
                id="$response.body#/id",
            ),
        ),
    )
    router.add_api_route(
        f"/{_kind.plural}/status",
        _status_reader(_kind),
        methods=["GET"],
        name=f"{_kind.plural}_status",
        summary=f"The state and results of an import of {_kind.plural}",
        responses=answers(job_status_of(_kind)),
        openapi_extra=leads_to(
            more=link(
                _status_of(_kind),
                "The next items",
                id="$request.query.id",
                limit="$request.query.limit",
                cursor="$response.body#/cursor",
            ),
            entry=link(
                "GET /api/{version}/mediaLibrary",
                "The first item's entry, by its systemName and externalId",
                systemName=f"$response.body#/{_kind.plural}/0/systemName",
                externalId=f"$response.body#/{_kind.plural}/0/externalId",
            ),
            cancel=link(
                _CANCEL,
                "Cancel the job",
                id="$response.body#/id",
            ),
        ),
    )
