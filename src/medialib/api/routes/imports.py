"""`/api/{version}/import/{plural}` and `/import/{plural}/status`, one pair per import kind of the
runtime's list, and the job routes: the list, cancel, retry. Every route calls the front door,
`rt.imports`."""

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
from medialib.imports.kinds import ImportKind, ImportKinds
from medialib.imports.records import JobState
from medialib.imports.requests import request_model
from medialib.imports.status import ItemFilter, ItemPage
from medialib.parsing import whole_number

_CANCEL = "POST /api/{version}/import/jobs/{id}/cancel"
_RETRY = "POST /api/{version}/import/jobs/{id}/retry"
_NEWEST = "$response.body#/jobs/0/id"


def _status_of(kind: ImportKind) -> str:
    return f"GET /api/{{version}}/import/{kind.plural}/status"


def _starter(kind: ImportKind) -> Callable[..., Awaitable[JSONBody]]:
    async def start(
        request: Request, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
    ) -> JSONBody:
        job_id = await rt.imports.start(call.project, kind, await read_json(request))
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
        status = await rt.imports.status(call.project.handle, kind, id, page)
        body = status_json(status, rt.urls)
        if limit is not None:
            body["cursor"] = status.next_cursor
        return JSONBody(body)

    return read_status


def _position(cursor: str | None) -> int:
    if cursor is None:
        return -1
    position = whole_number(cursor, max_digits=9)
    if position is None:
        raise BadRequest("bad cursor", details={"cursor": "is not a cursor this API gave"})
    return position


def router_for(kinds: ImportKinds) -> APIRouter:
    """The import routes of these kinds."""
    router = APIRouter(prefix="/api/{version}/import", tags=["imports"])
    _job_routes(router, kinds)
    for kind in kinds:
        _kind_routes(router, kind)
    return router


def _job_routes(router: APIRouter, kinds: ImportKinds) -> None:
    kind_pattern = "^(" + "|".join(kinds.names) + ")$"

    @router.get(
        "/jobs",
        summary="The project's import jobs, newest first, with their progress",
        responses=answers(JobList),
        openapi_extra=leads_to(
            next=link(
                "GET /api/{version}/import/jobs", "The next page", cursor="$response.body#/cursor"
            ),
            cancel=link(_CANCEL, "Cancel the newest job", id=_NEWEST),
            retry=link(_RETRY, "Retry the newest job's failed items", id=_NEWEST),
            **{
                f"{kind.plural}Status": link(
                    _status_of(kind),
                    f"The newest job's state, if it imports {kind.plural}",
                    id=_NEWEST,
                )
                for kind in kinds
            },
        ),
    )
    async def list_import_jobs(
        kind: str | None = Query(None, pattern=kind_pattern, description=" or ".join(kinds.names)),
        state: JobState | None = Query(None, description="started, success or failed"),
        limit: int = Query(50, ge=1, le=100),
        cursor: str | None = Query(None, description="The `cursor` of the page before"),
        call: Caller = Depends(caller(WRITE)),
        rt: Runtime = Depends(runtime),
    ) -> JSONBody:
        page = await rt.imports.jobs(
            call.project.handle, kind=kind, state=state, limit=limit, cursor=cursor
        )
        jobs = [job_summary_json(s) for s in page.jobs]
        return JSONBody({"jobs": jobs, "cursor": page.next_cursor})

    @router.post(
        "/jobs/{id}/cancel",
        summary="Stop a running job: its unfinished items fail with reason code `cancelled`",
        responses=answers(JobSummary),
    )
    async def cancel_import_job(
        id: str, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
    ) -> JSONBody:
        return JSONBody(job_summary_json(await rt.imports.cancel(call.project.handle, id)))

    @router.post(
        "/jobs/{id}/retry",
        summary="Import a job's failed items again, as they were asked for, in a new job",
        responses=answers(JobCreated),
        openapi_extra=leads_to(cancel=link(_CANCEL, "Cancel the new job", id="$response.body#/id")),
    )
    async def retry_import_job(
        id: str, call: Caller = Depends(caller(WRITE)), rt: Runtime = Depends(runtime)
    ) -> JSONBody:
        return JSONBody({"id": await rt.imports.retry(call.project, id)})


def _kind_routes(router: APIRouter, kind: ImportKind) -> None:
    router.add_api_route(
        f"/{kind.plural}",
        _starter(kind),
        methods=["POST"],
        name=f"import_{kind.plural}",
        summary=f"Import {kind.plural} from URLs (asynchronous: returns a job id)",
        responses=answers(JobCreated),
        openapi_extra=json_body(request_model(kind))
        | leads_to(
            status=link(_status_of(kind), "The job's state", id="$response.body#/id"),
            cancel=link(_CANCEL, "Cancel the job", id="$response.body#/id"),
            retry=link(_RETRY, "Retry the job's failed items", id="$response.body#/id"),
        ),
    )
    router.add_api_route(
        f"/{kind.plural}/status",
        _status_reader(kind),
        methods=["GET"],
        name=f"{kind.plural}_status",
        summary=f"The state and results of an import of {kind.plural}",
        responses=answers(job_status_of(kind)),
        openapi_extra=leads_to(
            more=link(
                _status_of(kind),
                "The next items",
                id="$request.query.id",
                limit="$request.query.limit",
                cursor="$response.body#/cursor",
            ),
            entry=link(
                "GET /api/{version}/mediaLibrary",
                "The first item's entry, by its systemName and externalId",
                systemName=f"$response.body#/{kind.plural}/0/systemName",
                externalId=f"$response.body#/{kind.plural}/0/externalId",
            ),
            cancel=link(_CANCEL, "Cancel the job", id="$response.body#/id"),
        ),
    )
