"""What every page needs: the runtime, the templates, who is looking (from the session cookie),
and the CSRF check of a form."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse

from medialib import logs
from medialib.auth.tokens import principal_of
from medialib.bootstrap import Runtime
from medialib.errors import Forbidden, Unauthorized
from medialib.library.projects import Project
from medialib.web.pictures import paint
from medialib.web.session import (
    COOKIE,
    Session,
    Viewer,
    csrf_ok,
    csrf_token,
    is_valid,
    parse_cookie,
)

TEMPLATES = Path(__file__).parent / "templates"


class SignInNeeded(Exception):
    """No valid session: the page sends the browser to the sign-in form."""


def _size(value: Any) -> str:
    size = float(value or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _duration(seconds: Any) -> str:
    total = int(float(seconds or 0))
    return f"{total // 60}:{total % 60:02d}"


env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters |= {
    "size": _size,
    "when": _when,
    "duration": _duration,
    "q": quote,
    "paint": paint,  # what a thumbnail's box shows before the thumbnail (web/pictures.py)
}


def render(name: str, code: int = 200, /, **context: Any) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**context), status_code=code)


async def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def session_of(request: Request, rt: Runtime) -> Session | None:
    """The request's session, when the cookie is genuine and not expired."""
    session = parse_cookie(request.cookies.get(COOKIE))
    if session is None or session.project not in rt.projects:
        return None
    return session if is_valid(session, rt.secret) else None


async def _signed_in(request: Request) -> tuple[Session, Viewer]:
    """The session and who is signed in with a token still good; else SignInNeeded."""
    rt = await runtime(request)
    session = session_of(request, rt)
    if session is None:
        raise SignInNeeded
    try:
        principal = await principal_of(rt.db, session.token_id)
    except Unauthorized as error:
        raise SignInNeeded from error
    if principal.project != session.project:
        raise SignInNeeded
    logs.annotate(project=session.project)
    return session, Viewer(principal, csrf_token(session, rt.secret))


async def viewer(request: Request) -> Viewer:
    return (await _signed_in(request))[1]


def refuse_other_sites(request: Request) -> None:
    """A form may change things only when the browser says it was sent from this site's own
    pages: by Sec-Fetch-Site, which every current browser sends and no page can set, else by
    Origin naming this host. A client that is no browser sends neither, and has no cookie that
    a page elsewhere could ride on; the CSRF tokens must match all the same."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        same = site in ("same-origin", "none")
    else:
        origin = request.headers.get("origin")
        same = origin is None or _host_of(origin) == request.headers.get("host")
    if not same:
        raise Forbidden(details={"origin": "A form of another site cannot change anything here."})


def _host_of(origin: str) -> str | None:
    try:
        return urlsplit(origin).netloc
    except ValueError:  # not a URL at all ("http://[")
        return None


async def writer(request: Request) -> Viewer:
    """A viewer who may change things, having sent the form's CSRF token from this site."""
    refuse_other_sites(request)
    session, who = await _signed_in(request)
    secret = (await runtime(request)).secret
    given = request.headers.get("x-csrf-token")
    if given is None and _is_form(request):
        await request.body()  # kept: the page may read the body again after its form
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not csrf_ok(session, secret, given):
        raise Forbidden(details={"csrf": "The form is stale or from another site: reload it."})
    if not who.can_write:
        raise Forbidden(details={"access_token": "This token may only read."})
    return who


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def project_of(rt: Runtime, who: Viewer) -> Project:
    project = rt.projects.get(who.principal.project)
    if project is None:
        raise SignInNeeded
    return project
