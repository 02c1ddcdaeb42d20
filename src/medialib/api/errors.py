"""Every error leaves the API in one shape: {"status", "error", "error_details"}.

The domain's errors (medialib/errors.py) know nothing of HTTP: this module is the one place that
gives each its status, its name in the API and its headers.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from medialib.api.responses import JSONBody, error_body
from medialib.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    MedialibError,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    field_problems,
)

log = logging.getLogger("medialib.api")

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# The status of each domain error; a subclass takes its nearest listed ancestor's.
STATUS: dict[type[MedialibError], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RangeNotSatisfiable: 416,
    TooManyRequests: 429,
    ServiceUnavailable: 503,
}


def status_of(error: MedialibError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def headers_of(error: MedialibError) -> dict[str, str]:
    if isinstance(error, TooManyRequests | ServiceUnavailable):
        return {"Retry-After": str(max(1, math.ceil(error.retry_after)))}
    if isinstance(error, RangeNotSatisfiable):
        return {"Content-Range": f"bytes */{error.size}"}
    return {}


def as_response(error: MedialibError) -> JSONBody:
    status = status_of(error)
    details = error.details or {"message": error.message}
    return JSONBody(error_body(status, _REASONS[status], details), status, headers_of(error))


def _validation_details(exc: RequestValidationError) -> dict[str, str]:
    """FastAPI's own checks (query and path parameters): paths without their location."""
    errors = list(exc.errors())
    for err in errors:
        if err.get("type") == "json_invalid":
            return {"body": f"Invalid JSON: {err.get('ctx', {}).get('error', 'cannot parse')}"}
    located = [{**err, "loc": tuple(err["loc"])[1:] or tuple(err["loc"])[:1]} for err in errors]
    return field_problems(located)


async def _medialib_error(request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, MedialibError)
    if status_of(exc) >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    return as_response(exc)


async def _request_validation(request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, RequestValidationError)
    return JSONBody(error_body(400, "Bad Request", _validation_details(exc)), 400)


async def _http_error(request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, HTTPException)
    reason = _REASONS.get(exc.status_code, "Error")
    if exc.status_code == 404:
        details: dict[str, Any] = {"url": request.url.path}
    else:
        details = {"message": exc.detail if isinstance(exc.detail, str) else reason}
    return JSONBody(error_body(exc.status_code, reason, details), exc.status_code, exc.headers)


async def _database_unreachable(request: Request, exc: Exception) -> JSONBody:
    log.error("%s %s: the database failed: %s", request.method, request.url.path, exc)
    details = {"database": "The database cannot be reached; try again shortly."}
    return as_response(ServiceUnavailable(details=details))


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up (or was cut off for a body that stalled) before its body was read:
    nobody waits for an answer, and it is no fault of the server's."""
    log.info(
        "%s %s: the client went away before its body arrived", request.method, request.url.path
    )
    return Response(status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONBody:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONBody(
        error_body(500, "Internal Server Error", {"message": "Internal Server Error"}), 500
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(MedialibError, _medialib_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, client_gone)
    # Connections refused, dropped or timed out; a database that is locked for too long.
    for unreachable in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.add_exception_handler(unreachable, _database_unreachable)
    app.add_exception_handler(Exception, _unexpected)
