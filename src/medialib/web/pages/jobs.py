"""The project's import jobs, newest first, with live progress; one job's counts, failed items,
webhook delivery, and the buttons to retry its failed items or cancel it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from medialib.bootstrap import Runtime
from medialib.events.store import deliveries_about
from medialib.imports.records import JobState
from medialib.imports.status import ItemFilter, ItemPage
from medialib.library.events import IMPORT_FINISHED
from medialib.media.fetch import redact
from medialib.web.deps import project_of, render, runtime, viewer, writer
from medialib.web.session import Viewer

router = APIRouter()
FAILED_SHOWN = 200


@router.get("/jobs")
async def jobs_page(
    request: Request,
    cursor: str | None = None,
    who: Viewer = Depends(viewer),
    rt: Runtime = Depends(runtime),
) -> Response:
    page = await rt.imports.jobs(who.principal.project, limit=50, cursor=cursor)
    running = any(s.job.state == JobState.STARTED for s in page.jobs)
    fragment = "_job_rows.html" if request.headers.get("hx-request") else "jobs.html"
    return render(fragment, request=request, who=who, page=page, running=running, cursor=cursor)


@router.get("/jobs/{job_id}")
async def job_page(
    request: Request, job_id: str, who: Viewer = Depends(viewer), rt: Runtime = Depends(runtime)
) -> Response:
    project = who.principal.project
    summary = await rt.imports.job(project, job_id)
    kind = rt.kinds.named(summary.job.kind)
    status = await rt.imports.status(
        project, kind, job_id, ItemPage(ItemFilter.FAILED, FAILED_SHOWN)
    )
    fragment = "_job_head.html" if request.headers.get("hx-request") else "job.html"
    deliveries = await deliveries_about(rt.db, project, IMPORT_FINISHED, job_id)
    webhook = redact(status.job.webhook) if status.job.webhook else None
    return render(
        fragment,
        request=request,
        who=who,
        status=status,
        kind=kind,
        deliveries=deliveries,
        webhook=webhook,
    )


@router.post("/jobs/{job_id}/retry")
async def retry_page(
    job_id: str, who: Viewer = Depends(writer), rt: Runtime = Depends(runtime)
) -> Response:
    new_id = await rt.imports.retry(project_of(rt, who), job_id)
    return RedirectResponse(f"/ui/jobs/{new_id}", status_code=303)


@router.post("/jobs/{job_id}/cancel")
async def cancel_page(
    job_id: str, who: Viewer = Depends(writer), rt: Runtime = Depends(runtime)
) -> Response:
    await rt.imports.cancel(who.principal.project, job_id)
    return RedirectResponse(f"/ui/jobs/{job_id}", status_code=303)
