"""The operations page, for operators without Grafana: the signed-in project's last hour of
imports (items finished a minute, by state and by failure reason, jobs by state), the server's
task queue, the webhook deliveries that failed, and how far `medialib analyze` is. Read from
the database, so it works with no Prometheus; htmx refreshes it every few seconds."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from medialib.bootstrap import Runtime
from medialib.db.tables import utcnow
from medialib.events.activity import failing_deliveries
from medialib.imports.activity import import_activity
from medialib.library.analysis import read_run
from medialib.web.deps import render, runtime, viewer
from medialib.web.session import Viewer

router = APIRouter()
MINUTES = 60


@router.get("/operations")
async def operations_page(
    request: Request, who: Viewer = Depends(viewer), rt: Runtime = Depends(runtime)
) -> Response:
    project = who.principal.project
    async with rt.db.read(snapshot=True) as conn:
        imports = await import_activity(conn, project, utcnow(), MINUTES)
        webhooks = await failing_deliveries(conn, project, imports.since)
        analysis = await read_run(conn, project)
    # The queue is the server's, every project's: tasks carry no project to count them by.
    tasks = await rt.runner.pending(rt.db)
    fragment = "_operations.html" if request.headers.get("hx-request") else "operations.html"
    return render(
        fragment,
        request=request,
        who=who,
        imports=imports,
        webhooks=webhooks,
        tasks=tasks,
        analysis=analysis,
    )
