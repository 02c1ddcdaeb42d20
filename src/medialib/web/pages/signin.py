"""Signing in with a token (as `medialib token create` prints it) and out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from medialib.auth.tokens import authenticate
from medialib.bootstrap import Runtime
from medialib.errors import Forbidden, Unauthorized
from medialib.library.projects import webhook_secret
from medialib.web.deps import render, runtime, session_of
from medialib.web.session import COOKIE, LIFETIME, csrf_ok, new_session

router = APIRouter()


def _safe_next(wanted: str | None) -> str:
    """Only a path of the web view: never another site (an open redirect)."""
    if wanted and wanted.startswith("/ui/") and not wanted.startswith("//"):
        return wanted
    return "/ui/library"


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/ui/library", status_code=303)


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    return render("sign_in.html", request=request, who=None, next=_safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    token: str = Form(""),
    next: str = Form("/ui/library"),
    rt: Runtime = Depends(runtime),
) -> Response:
    try:
        principal = await authenticate(rt.db, f"Bearer {token.strip()}")
    except Unauthorized as error:
        message = error.details.get("access_token", "The token is not valid.")
        return render(
            "sign_in.html", 401, request=request, who=None, next=_safe_next(next), error=message
        )
    session = new_session(principal, await webhook_secret(rt.db, principal.project))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        session.cookie,
        max_age=LIFETIME,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request, csrf: str = Form(""), rt: Runtime = Depends(runtime)
) -> Response:
    found = await session_of(request, rt)
    if found is not None and not csrf_ok(found[0], found[1], csrf):
        raise Forbidden(details={"csrf": "The form is stale or from another site: reload it."})
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response
