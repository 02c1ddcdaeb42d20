"""Signing in to the web view over plain HTTP, as a browser does: the sign-in form first (its
pre-session cookie and token), then the post; what pages carry for their forms."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def form_token(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(page)
    assert found is not None, page
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, token: str) -> str:
    """Sign `client` in with `token` (its cookies keep the session); the CSRF token of the
    session's forms."""
    form = await client.get("/ui/sign-in")
    assert form.status_code == 200, form.text
    sent = {"token": token, "next": "/ui/library", "csrf": form_token(form.text)}
    signed = await client.post("/ui/sign-in", data=sent)
    assert signed.status_code == 303, signed.text
    page = await client.get("/ui/library")
    return form_token(page.text)
