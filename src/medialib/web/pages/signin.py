"""Signing in with a token (as `medialib token create` prints it) and out.

The sign-in form is bound to the browser that asked for it: the page sets a pre-session cookie
(a random nonce) and the form carries the nonce's signature, so a page of another site can
neither post a sign-in into an attacker's project nor read the token it would need (login CSRF);
Sec-Fetch-Site and Origin are checked as for every form.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from medialib.auth.tokens import authenticate
from medialib.bootstrap import Runtime
from medialib.errors import Forbidden, Unauthorized
from medialib.web.deps import refuse_other_sites, render, runtime, session_of
from medialib.web.session import (
    COOKIE,
    LIFETIME,
    SIGN_IN_COOKIE,
    SIGN_IN_LIFETIME,
    csrf_ok,
    new_session,
    new_sign_in_nonce,
    sign_in_ok,
    sign_in_token,
)

router = APIRouter()
STALE = "The sign-in form is stale or from another site: reload it and sign in again."


def _safe_next(wanted: str | None) -> str:
    """Only a path of the web view: never another site (an open redirect)."""
    if wanted and wanted.startswith("/ui/") and not wanted.startswith("//"):
        return wanted
    return "/ui/library"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _form(
    request: Request, rt: Runtime, wanted: str | None, error: str | None, code: int = 200
) -> Response:
    """The sign-in form, bound to a new pre-session nonce."""
    nonce = new_sign_in_nonce()
    page = render(
        "sign_in.html",
        code,
        request=request,
        who=None,
        next=_safe_next(wanted),
        error=error,
        csrf=sign_in_token(nonce, rt.secret),
    )
    _cookie(page, request, SIGN_IN_COOKIE, nonce, SIGN_IN_LIFETIME)
    return page


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/ui/library", status_code=303)


@router.get("/sign-in")
async def sign_in_form(
    request: Request, next: str | None = None, rt: Runtime = Depends(runtime)
) -> Response:
    return _form(request, rt, next, None)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    token: str = Form(""),
    next: str = Form("/ui/library"),
    csrf: str = Form(""),
    rt: Runtime = Depends(runtime),
) -> Response:
    refuse_other_sites(request)
    if not sign_in_ok(request.cookies.get(SIGN_IN_COOKIE), rt.secret, csrf):
        return _form(request, rt, next, STALE, 403)
    try:
        principal = await authenticate(rt.db, f"Bearer {token.strip()}")
    except Unauthorized as error:
        message = error.details.get("access_token", "The token is not valid.")
        return _form(request, rt, next, message, 401)
    session = new_session(principal, rt.secret)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _cookie(response, request, COOKIE, session.cookie, LIFETIME)
    response.delete_cookie(SIGN_IN_COOKIE, path="/ui")
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request, csrf: str = Form(""), rt: Runtime = Depends(runtime)
) -> Response:
    refuse_other_sites(request)
    found = session_of(request, rt)
    if found is not None and not csrf_ok(found, rt.secret, csrf):
        raise Forbidden(details={"csrf": "The form is stale or from another site: reload it."})
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/ui")
    return response
