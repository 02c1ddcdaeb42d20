"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from medialib.api.deps import VersionPath, api_state, runtime
from medialib.api.queries import only_known_query
from medialib.api.responses import JSONBody
from medialib.api.schemas import Health, answers
from medialib.bootstrap import Runtime
from medialib.errors import ServiceUnavailable

# A probe sends no parameters; one that does is told so, as every endpoint does.
router = APIRouter(tags=["health"], dependencies=[Depends(only_known_query)])


@router.get("/healthz", summary="The process is up", responses=answers(Health))
async def healthz() -> JSONBody:
    return JSONBody({"status": "ok"})


@router.get("/readyz", summary="The database answers", responses=answers(Health, 503))
async def readyz(rt: Runtime = Depends(runtime)) -> JSONBody:
    try:
        await rt.db.ping()
    except Exception as exc:
        details = {"database": f"unreachable: {type(exc).__name__}"}
        raise ServiceUnavailable(details=details) from exc
    return JSONBody({"status": "ok", "database": "ok"})


@router.get(
    "/api/{version}/health",
    summary="The API version answers (the original API's health check; no token needed)",
    responses=answers(Health, 404, 410),
)
async def api_health(request: Request, version: str = VersionPath) -> JSONBody:
    api_state(request).versions.resolve(version)
    return JSONBody({"status": "ok"})
