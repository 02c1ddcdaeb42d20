"""What every versioned endpoint needs before it runs: the version, then who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from medialib import logs
from medialib.api.limits import RateLimits
from medialib.api.queries import check_query
from medialib.api.versions import VERSION_NAMES, ApiVersion, VersionTable
from medialib.auth.tokens import Principal, authenticate
from medialib.bootstrap import Runtime
from medialib.errors import (
    BadRequest,
    Unauthorized,
    UnsupportedMediaType,
    field_problems,
)
from medialib.library import storable
from medialib.library.events import Actor
from medialib.library.projects import Project
from medialib.library.renditions import Renditions

# Declared for the OpenAPI docs' "Authorize" button; the header is checked by `authenticate`
# so that every failure gets the API's own error body.
_bearer = HTTPBearer(auto_error=False, description="A token made with `medialib token create`.")


@dataclass(frozen=True)
class ApiState:
    """What the routes share: the process's runtime, and what only HTTP needs."""

    runtime: Runtime
    versions: VersionTable
    rate_limits: RateLimits
    renditions: Renditions


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


# Dependencies are coroutines: FastAPI would run plain functions in a thread, a hop per request.
async def runtime(request: Request) -> Runtime:
    return api_state(request).runtime


async def renditions(request: Request) -> Renditions:
    return api_state(request).renditions


@dataclass(frozen=True, slots=True)
class Caller:
    version: ApiVersion
    principal: Principal
    project: Project

    @property
    def actor(self) -> Actor:
        """Who the change events say made a change: this token, by its name."""
        return Actor("api-client", self.principal.name)


VersionPath = Path(
    description=f"API version: one of {', '.join(VERSION_NAMES)}",
    examples=["2026-05"],
)


def caller(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the resolved version, then the token, then the scope, in that order."""

    async def resolve(
        request: Request,
        version: str = VersionPath,
        _credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> Caller:
        state = api_state(request)
        api_version = state.versions.resolve(version)
        principal = await authenticate(state.runtime.db, request.headers.get("authorization"))
        state.rate_limits.take(principal.token_id)
        principal.require(scope)
        project = state.runtime.projects.get(principal.project)
        if project is None:
            raise Unauthorized(
                details={"access_token": "The access token's project is no longer configured."}
            )
        logs.annotate(project=project.handle)  # the request's lines name it from here on
        check_query(request)  # after who is calling: a stranger learns nothing from it
        return Caller(api_version, principal, project)

    return resolve


M = TypeVar("M", bound=pydantic.BaseModel)

_JSON_TYPES = ("application/json", "application/problem+json", "text/json")


async def read_json(request: Request) -> Any:
    """The request body as JSON. Its size is capped before it is read (api/bodies.py: at
    MEDIALIB_MAX_BODY_BYTES for the API), so a huge body costs nothing but the bytes up to it."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type.lower() not in _JSON_TYPES:
        raise UnsupportedMediaType(
            details={"content-type": "Send the body as JSON, with Content-Type: application/json."}
        )
    body = await request.body()
    if not body:
        raise BadRequest(details={"body": "A JSON body is required."})
    # Whatever is stored comes from the body: what the library could not store as it came
    # (NUL, integers beyond 64 bits, nesting past 254) is refused whole, before any work.
    return storable.loads(body)


def parse_model(model: type[M], data: Any) -> M:
    """A request model, or BadRequest naming each bad field path."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise BadRequest(details=field_problems(exc)) from exc
