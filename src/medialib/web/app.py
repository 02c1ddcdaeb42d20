"""The whole HTTP process: the API, with the web view mounted at `/ui`.

The web view is its own small app (its own error pages: HTML, not the API's JSON) over the same
runtime; its scripts and styles are files of this package, so it works without a network.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from medialib.api.app import create_app as create_api
from medialib.api.errors import as_response, status_of
from medialib.bootstrap import Runtime
from medialib.errors import MedialibError
from medialib.settings import Settings
from medialib.web.deps import SignInNeeded, error_page
from medialib.web.pages import entries, events, jobs, library, signin

STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, *, worker: bool = True
) -> FastAPI:
    rt = runtime or Runtime.from_settings(settings or Settings())
    app = create_api(runtime=rt, worker=worker)
    app.mount("/ui", create_web(rt))

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/ui/", status_code=303)

    return app


def create_web(rt: Runtime) -> FastAPI:
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.runtime = rt
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    for pages in (signin, jobs, library, entries, events):
        web.include_router(pages.router)

    @web.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, exc: Exception) -> Response:
        if request.headers.get("hx-request"):  # htmx swaps fragments: send the page instead
            return Response(status_code=204, headers={"HX-Redirect": "/ui/sign-in"})
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/sign-in?next={wanted}", status_code=303)

    @web.exception_handler(MedialibError)
    async def medialib_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MedialibError)
        if request.headers.get("content-type", "").startswith("application/json"):
            return as_response(exc)  # upload.js's calls: the API's error shape
        return error_page(request, exc, status_of(exc))

    return web
