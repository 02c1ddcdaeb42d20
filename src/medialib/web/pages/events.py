"""The project's recent webhook deliveries, a compact row each with its last attempt, filtered
by state (failing: given up or still being tried after a failed attempt; the failed ones, those
still being tried, the delivered)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from medialib.bootstrap import Runtime
from medialib.db.outbox import DeliveryState
from medialib.events.store import FAILING, recent_deliveries
from medialib.web.deps import render, runtime, viewer
from medialib.web.session import Viewer

router = APIRouter()
PAGE = 100  # a row each: a screen shows a few dozen


@router.get("/events")
async def events_page(
    request: Request,
    cursor: str | None = Query(None, max_length=500),
    state: str | None = Query(None, pattern="^(failing|pending|delivered|failed|)$"),
    who: Viewer = Depends(viewer),
    rt: Runtime = Depends(runtime),
) -> Response:
    wanted: DeliveryState | Literal["failing"] | None = None  # "every delivery" sends ""
    if state == FAILING:
        wanted = FAILING
    elif state:
        wanted = DeliveryState(state)
    page = await recent_deliveries(
        rt.db, who.principal.project, state=wanted, limit=PAGE, cursor=cursor
    )
    return render("events.html", request=request, who=who, page=page, state=state or "")
