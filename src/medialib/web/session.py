"""The web view's session: a signed cookie naming the token someone signed in with, the CSRF
token its forms carry, and the pre-session token that binds the sign-in form to its browser.

The cookie holds `project.token_id.expires.signature`, never the token itself, and is signed with
a key derived from the server secret for this purpose only (never a webhook secret, which every
webhook receiver holds): a forged or changed cookie is refused, and the token is looked up on every
request, so revoking it ends the session.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from medialib.auth.tokens import WRITE, Principal
from medialib.library.events import Actor
from medialib.parsing import whole_number
from medialib.server_secret import Purpose, ServerSecret

COOKIE = "medialib_session"
LIFETIME = 12 * 3600  # seconds a sign-in lasts
SIGN_IN_COOKIE = "medialib_sign_in"  # the pre-session nonce the sign-in form is bound to
SIGN_IN_LIFETIME = 3600
_NONCE = re.compile(r"[A-Za-z0-9_-]{32,64}", re.ASCII)


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


def new_session(principal: Principal, secret: ServerSecret, now: float | None = None) -> Session:
    expires = int((now or time.time()) + LIFETIME)
    terms = f"{principal.project}.{principal.token_id}.{expires}"
    return Session(
        principal.project, principal.token_id, expires, secret.sign(Purpose.WEB_SESSION, terms)
    )


def parse_cookie(value: str | None) -> Session | None:
    """The cookie's parts, unchecked (the server secret checks them: `is_valid`)."""
    parts = (value or "").split(".")
    if len(parts) != 4 or whole_number(parts[2]) is None:
        return None
    return Session(parts[0], parts[1], int(parts[2]), parts[3])


def is_valid(session: Session, secret: ServerSecret, now: float | None = None) -> bool:
    if session.expires <= (now or time.time()):
        return False
    return secret.verify(Purpose.WEB_SESSION, session.terms, session.signature)


def csrf_token(session: Session, secret: ServerSecret) -> str:
    """What a form of this session must send back: bound to the session, so a page of another
    site cannot know it."""
    return secret.sign(Purpose.WEB_CSRF, session.cookie)


def csrf_ok(session: Session, secret: ServerSecret, given: str | None) -> bool:
    return bool(given) and secret.verify(Purpose.WEB_CSRF, session.cookie, given or "")


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(32)


def sign_in_token(nonce: str, secret: ServerSecret) -> str:
    """What the sign-in form carries: bound to the browser's pre-session cookie, so a page of
    another site cannot post a sign-in of its own choosing (login CSRF)."""
    return secret.sign(Purpose.WEB_SIGN_IN, nonce)


def sign_in_ok(nonce: str | None, secret: ServerSecret, given: str | None) -> bool:
    if not nonce or not given or not _NONCE.fullmatch(nonce):
        return False
    return secret.verify(Purpose.WEB_SIGN_IN, nonce, given)


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: the token's principal and the session's CSRF token."""

    principal: Principal
    csrf: str

    @property
    def can_write(self) -> bool:
        return WRITE in self.principal.scopes

    @property
    def actor(self) -> Actor:
        """A person of the web view, in change events (named by the token they signed in with,
        for webhooks that ask for names)."""
        return Actor("user", self.principal.name)
