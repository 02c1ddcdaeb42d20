"""The project's recent webhook deliveries, with their attempts and last error."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from medialib.bootstrap import Runtime
from medialib.events.store import recent_deliveries
from medialib.web.deps import render, runtime, viewer
from medialib.web.session import Viewer

router = APIRouter()


@router.get("/events")
async def events_page(
    request: Request,
    cursor: str | None = None,
    who: Viewer = Depends(viewer),
    rt: Runtime = Depends(runtime),
) -> Response:
    page = await recent_deliveries(rt.db, who.principal.project, limit=50, cursor=cursor)
    return render("events.html", request=request, who=who, page=page)
