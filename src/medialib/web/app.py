"""The whole HTTP process: the API, with the web view mounted at `/ui`.

The web view is its own small app (its own error pages: HTML, not the API's JSON) over the same
runtime; its scripts and styles are files of this package, so it works without a network. Every
answer under `/ui` carries the security headers of web/headers.py.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from medialib.api.app import create_app as create_api
from medialib.bootstrap import Runtime
from medialib.settings import Settings
from medialib.web import errors
from medialib.web.headers import SecurityHeaders, security_headers
from medialib.web.pages import entries, events, focus, jobs, library, operations, signin

STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, *, worker: bool = True
) -> FastAPI:
    rt = runtime or Runtime.from_settings(settings or Settings())
    app = create_api(runtime=rt, worker=worker)
    app.mount("/ui", create_web(rt))
    # Added last, so outermost: around the body caps too, whose 413 may answer a /ui request.
    app.add_middleware(SecurityHeaders, headers=security_headers(rt.settings))

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/ui/", status_code=303)

    return app


def create_web(rt: Runtime) -> FastAPI:
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.runtime = rt
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    # focus before entries: its POST /entries/{id}/focus is not one of entries' state changes.
    for pages in (signin, jobs, library, focus, entries, events, operations):
        web.include_router(pages.router)
    errors.install(web)
    return web
