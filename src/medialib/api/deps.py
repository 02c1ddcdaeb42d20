"""What every versioned endpoint needs before it runs: the version, then who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import pydantic
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from medialib.api.limits import RateLimits
from medialib.api.versions import VERSION_NAMES, ApiVersion, VersionTable
from medialib.auth.tokens import Principal, authenticate
from medialib.bootstrap import Runtime
from medialib.errors import (
    BadRequest,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    field_problems,
)
from medialib.library.projects import Project
from medialib.library.renditions import Renditions
from medialib.parsing import whole_number

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
        return Caller(api_version, principal, project)

    return resolve


M = TypeVar("M", bound=pydantic.BaseModel)

_JSON_TYPES = ("application/json", "application/problem+json", "text/json")


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request body as JSON, read with a byte cap (before parsing, so a huge body costs
    nothing but the bytes read up to the cap)."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type.lower() not in _JSON_TYPES:
        raise UnsupportedMediaType(
            details={"content-type": "Send the body as JSON, with Content-Type: application/json."}
        )
    declared = whole_number(request.headers.get("content-length", ""))
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    if not body:
        raise BadRequest(details={"body": "A JSON body is required."})
    try:
        data = orjson.loads(body)
        # Whatever is stored comes from the body, so it must be writable as JSON again:
        # nesting deeper than the writer's limit (254) or integers past 64 bits are refused here.
        orjson.dumps(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(details={"body": f"Invalid JSON: {exc}"}) from exc
    except orjson.JSONEncodeError as exc:
        raise BadRequest(
            details={"body": f"JSON medialib cannot store: {exc} (at most 254 levels deep)"}
        ) from exc
    if b"\\u0000" in body and _has_nul(data):
        # PostgreSQL cannot store NUL in text or JSON; no sane metadata needs it.
        raise BadRequest(details={"body": "NUL characters (\\u0000) are not accepted."})
    return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(details={"body": f"The body must not be larger than {max_bytes} bytes."})


def parse_model(model: type[M], data: Any) -> M:
    """A request model, or BadRequest naming each bad field path."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise BadRequest(details=field_problems(exc)) from exc
