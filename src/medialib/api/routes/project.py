"""`GET /api/{version}/projectConfig`: the token's project as the original API shows it, with
its media types and their metadata properties (what a client needs to type its values)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from medialib.api.deps import Caller, caller
from medialib.api.presenters import project_config_json
from medialib.api.responses import JSONBody
from medialib.api.schemas import ProjectConfig, answers
from medialib.auth.tokens import READ

router = APIRouter(prefix="/api/{version}", tags=["project"])


@router.get(
    "/projectConfig",
    summary="The project's configuration: its media types and their metadata properties",
    responses=answers(ProjectConfig),
)
async def project_config(call: Caller = Depends(caller(READ))) -> JSONBody:
    return JSONBody(project_config_json(call.project))
