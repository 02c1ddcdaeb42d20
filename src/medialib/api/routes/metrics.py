"""`GET /metrics`: Prometheus' text format, without a token, to the addresses of
MEDIALIB_METRICS_ALLOW only (loopback by default): what the server's processes counted, summed
(metrics.py), and two gauges read from the database now: jobs by state and tasks not done."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from medialib import metrics
from medialib.api.deps import runtime
from medialib.bootstrap import Runtime
from medialib.errors import Forbidden

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def exposition(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    client = request.client.host if request.client else None
    if not metrics.may_scrape(client, rt.metrics_allow):
        raise Forbidden(
            "Forbidden",
            details={"client": "This address may not read the metrics (MEDIALIB_METRICS_ALLOW)."},
        )
    gauges = [
        metrics.gauge(
            metrics.IMPORT_JOBS,
            "Import jobs, by state.",
            "state",
            await rt.imports.count_by_state(),
        ),
        metrics.gauge(
            metrics.TASKS_PENDING,
            "Background tasks not done yet, by state: todo (waiting or scheduled) or doing.",
            "state",
            await rt.runner.pending(rt.db),
        ),
    ]
    body = metrics.exposition(rt.settings.metrics_dir, gauges)
    return Response(body, media_type=metrics.CONTENT_TYPE)
