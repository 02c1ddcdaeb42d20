"""Every error leaves the API in one shape: {"status", "error", "error_details"}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException

from medialib.api.responses import JSONBody, error_body
from medialib.errors import MedialibError, ServiceUnavailable

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


def field_path(loc: tuple[Any, ...]) -> str:
    """("body", "patches", 0, "operation") -> "patches.0.operation"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts[:1]
    return ".".join(parts)


def _validation_details(exc: RequestValidationError) -> dict[str, str]:
    details: dict[str, str] = {}
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            details["body"] = f"Invalid JSON: {err.get('ctx', {}).get('error', 'cannot parse')}"
            continue
        details.setdefault(field_path(tuple(err["loc"])), err["msg"])
    return details


async def _medialib_error(request: Request, exc: Exception) -> JSONBody:
    assert isinstance(exc, MedialibError)
    if exc.status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    details = exc.details or {"message": exc.message}
    return JSONBody(error_body(exc.status, exc.error, details), exc.status, headers=exc.headers)


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
    return await _medialib_error(request, ServiceUnavailable(details=details))


async def _unexpected(request: Request, exc: Exception) -> JSONBody:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONBody(
        error_body(500, "Internal Server Error", {"message": "Internal Server Error"}), 500
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(MedialibError, _medialib_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(HTTPException, _http_error)
    # Connections refused, dropped or timed out; a database that is locked for too long.
    for unreachable in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.add_exception_handler(unreachable, _database_unreachable)
    app.add_exception_handler(Exception, _unexpected)
