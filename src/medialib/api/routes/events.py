"""`GET /api/{version}/events/deliveries`: the project's recent webhook deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from medialib.api.deps import Caller, caller, runtime
from medialib.api.openapi import leads_to, link
from medialib.api.presenters import delivery_json
from medialib.api.responses import JSONBody
from medialib.api.schemas import DeliveryList, answers
from medialib.auth.tokens import WRITE
from medialib.bootstrap import Runtime
from medialib.db.outbox import DeliveryState
from medialib.events.store import recent_deliveries

router = APIRouter(prefix="/api/{version}/events", tags=["events"])


@router.get(
    "/deliveries",
    summary="Recent webhook deliveries (job webhooks and entry events) with every attempt",
    responses=answers(DeliveryList),
    openapi_extra=leads_to(
        next=link(
            "GET /api/{version}/events/deliveries", "The next page", cursor="$response.body#/cursor"
        )
    ),
)
async def list_deliveries(
    state: DeliveryState | None = Query(None, description="pending, delivered or failed"),
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = Query(None, description="The `cursor` of the page before"),
    call: Caller = Depends(caller(WRITE)),
    rt: Runtime = Depends(runtime),
) -> JSONBody:
    page = await recent_deliveries(
        rt.db, call.project.handle, state=state, limit=limit, cursor=cursor
    )
    return JSONBody(
        {"deliveries": [delivery_json(d) for d in page.deliveries], "cursor": page.cursor}
    )
