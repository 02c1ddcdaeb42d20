"""Every error under /ui in the web view's own shape: its HTML error page with the status a
browser should see (404 for a page that is not there, 400 where FastAPI would say 422),
whatever raised it: a service's MedialibError, the router, a form Starlette could not parse, a
database that is away, a fault. Never FastAPI's default JSON.

upload.js's calls send JSON and read JSON: those are answered in the API's error shape, so that
it can show the API's words.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import RedirectResponse, Response

from medialib.api.errors import as_response, client_gone, headers_of, status_of
from medialib.api.responses import JSONBody, error_body
from medialib.errors import MedialibError, ServiceUnavailable, field_problems
from medialib.web.deps import SignInNeeded, render

log = logging.getLogger("medialib.web")


def install(web: FastAPI) -> None:
    web.add_exception_handler(SignInNeeded, _sign_in_first)
    web.add_exception_handler(MedialibError, _medialib_error)
    web.add_exception_handler(RequestValidationError, _invalid_request)
    web.add_exception_handler(HTTPException, _http_error)
    web.add_exception_handler(ClientDisconnect, client_gone)
    # Connections refused, dropped or timed out; a database that is locked for too long.
    for unreachable in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        web.add_exception_handler(unreachable, _database_unreachable)
    web.add_exception_handler(Exception, _unexpected)


def _page(
    request: Request, status: int, details: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    page = render("error.html", status, request=request, status=status, details=details, who=None)
    page.headers.update(headers or {})
    return page


def _wants_json(request: Request) -> bool:
    """upload.js's calls (a browser's forms and links never send JSON)."""
    return request.headers.get("content-type", "").startswith("application/json")


def _answer(
    request: Request, status: int, details: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    if _wants_json(request):
        body = error_body(status, HTTPStatus(status).phrase, details)
        return JSONBody(body, status, headers)
    return _page(request, status, details, headers)


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    if request.headers.get("hx-request"):  # htmx swaps fragments: send the page instead
        return Response(status_code=204, headers={"HX-Redirect": "/ui/sign-in"})
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/sign-in?next={wanted}", status_code=303)


async def _medialib_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MedialibError)
    status = status_of(exc)
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    if _wants_json(request):
        return as_response(exc)
    return _page(request, status, exc.details or {"message": exc.message}, headers_of(exc))


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """FastAPI's own checks of a page's parameters (`?archived=maybe`): a 400 naming each, by
    its name in the URL or form."""
    assert isinstance(exc, RequestValidationError)
    located = [{**e, "loc": tuple(e["loc"])[1:] or tuple(e["loc"])[:1]} for e in exc.errors()]
    return _answer(request, 400, field_problems(located))


async def _http_error(request: Request, exc: Exception) -> Response:
    """The router's and Starlette's refusals: no such page (or static file), a method the page
    does not take, a form body Starlette cannot parse."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status < 400:  # 304 and the like: no page to show
        return Response(status_code=status, headers=exc.headers)
    details: dict[str, Any]
    if status == 404:
        details = {"page": f"There is no page at {request.url.path}."}
    elif status == 405:
        details = {"method": f"{request.method} is not a method this page takes."}
    else:
        details = {"message": exc.detail if isinstance(exc.detail, str) else "Refused."}
    return _answer(request, status, details, dict(exc.headers or {}))


async def _database_unreachable(request: Request, exc: Exception) -> Response:
    log.error("%s %s: the database failed: %s", request.method, request.url.path, exc)
    details = {"database": "The database cannot be reached; try again shortly."}
    return await _medialib_error(request, ServiceUnavailable(details=details))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _answer(request, 500, {"message": "Something went wrong; it is in the server's log."})
