"""The web view's session: a signed cookie naming the token someone signed in with, and the
CSRF token its forms carry.

The cookie holds `project.token_id.expires.signature`, never the token itself, and is signed with
a key derived from the project's webhook secret (as upload URLs are): a forged or changed cookie
is refused, and the token is looked up on every request, so revoking it ends the session.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from medialib.auth.tokens import WRITE, Principal
from medialib.parsing import whole_number

COOKIE = "medialib_session"
LIFETIME = 12 * 3600  # seconds a sign-in lasts


@dataclass(frozen=True)
class Session:
    project: str
    token_id: str
    expires: int
    signature: str

    @property
    def terms(self) -> str:
        return f"{self.project}.{self.token_id}.{self.expires}"

    @property
    def cookie(self) -> str:
        return f"{self.terms}.{self.signature}"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"medialib web session", hashlib.sha256).digest()


def _sign(secret: str, text: str) -> str:
    return hmac.new(_key(secret), text.encode(), hashlib.sha256).hexdigest()


def new_session(principal: Principal, secret: str, now: float | None = None) -> Session:
    expires = int((now or time.time()) + LIFETIME)
    terms = f"{principal.project}.{principal.token_id}.{expires}"
    return Session(principal.project, principal.token_id, expires, _sign(secret, terms))


def parse_cookie(value: str | None) -> Session | None:
    """The cookie's parts, unchecked (the project's secret checks them: `is_valid`)."""
    parts = (value or "").split(".")
    if len(parts) != 4 or whole_number(parts[2]) is None:
        return None
    return Session(parts[0], parts[1], int(parts[2]), parts[3])


def is_valid(session: Session, secret: str, now: float | None = None) -> bool:
    if session.expires <= (now or time.time()):
        return False
    return hmac.compare_digest(_sign(secret, session.terms), session.signature)


def csrf_token(session: Session, secret: str) -> str:
    """What a form of this session must send back: bound to the session, so a page of another
    site cannot know it."""
    return _sign(secret, "csrf:" + session.cookie)


def csrf_ok(session: Session, secret: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(session, secret), given or "")


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: the token's principal and the session's CSRF token."""

    principal: Principal
    csrf: str

    @property
    def can_write(self) -> bool:
        return WRITE in self.principal.scopes
