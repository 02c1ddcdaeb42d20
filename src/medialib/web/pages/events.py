"""The project's recent webhook deliveries, a compact row each with its last attempt, filtered
by state (the failed ones, those still being tried, the delivered)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from medialib.bootstrap import Runtime
from medialib.db.outbox import DeliveryState
from medialib.events.store import recent_deliveries
from medialib.web.deps import render, runtime, viewer
from medialib.web.session import Viewer

router = APIRouter()
PAGE = 100  # a row each: a screen shows a few dozen


@router.get("/events")
async def events_page(
    request: Request,
    cursor: str | None = Query(None, max_length=500),
    state: str | None = Query(None, pattern="^(pending|delivered|failed|)$"),
    who: Viewer = Depends(viewer),
    rt: Runtime = Depends(runtime),
) -> Response:
    wanted = DeliveryState(state) if state else None  # the form's "every delivery" sends ""
    page = await recent_deliveries(
        rt.db, who.principal.project, state=wanted, limit=PAGE, cursor=cursor
    )
    return render("events.html", request=request, who=who, page=page, state=state or "")
