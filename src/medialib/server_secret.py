"""The server's own secret, which never leaves the servers, and the keys derived from it: one
per purpose, so that no key signs two kinds of thing.

Webhook receivers hold their project's webhook secret by design, so it signs webhooks and
nothing else. What only medialib itself may make (web sessions, CSRF tokens, upload URLs) is
signed with a key derived from this secret instead: `MEDIALIB_SECRET_KEY` when the operator
gives one (every server of a scaled-out deployment needs the same), else a random one written
into the home at the first start, readable by its owner only. Changing it signs everyone out of
the web view and voids every upload URL handed out; changing a webhook secret does neither.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from medialib.errors import ConfigError

FILE_NAME = "secret.key"
MIN_LENGTH = 32  # characters of an operator's MEDIALIB_SECRET_KEY
log = logging.getLogger("medialib")


class Purpose(enum.StrEnum):
    """What a derived key signs. A new kind of signed thing gets a purpose of its own."""

    WEB_SESSION = "web session cookie"
    WEB_CSRF = "web form csrf token"
    WEB_SIGN_IN = "web sign-in form token"
    UPLOAD_URL = "upload url"


class SecretKeyError(ConfigError):
    """The server secret cannot be read, made or used as it is."""


@dataclass(frozen=True)
class ServerSecret:
    value: bytes = field(repr=False)

    def key(self, purpose: Purpose) -> bytes:
        """The key for one purpose: HMAC-SHA256 of the purpose's label under the secret."""
        return hmac.new(self.value, b"medialib/" + purpose.value.encode(), hashlib.sha256).digest()

    def sign(self, purpose: Purpose, text: str) -> str:
        """`text`'s signature (hex) under the purpose's key."""
        return hmac.new(self.key(purpose), text.encode(), hashlib.sha256).hexdigest()

    def verify(self, purpose: Purpose, text: str, signature: str) -> bool:
        # As bytes: compare_digest refuses a str with other than ASCII in it (a TypeError).
        expected = self.sign(purpose, text).encode()
        return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


def load_server_secret(configured: str | None, home: Path) -> ServerSecret:
    """The operator's secret, else the one in the home, made there now if there is none."""
    if configured is not None:
        # Whitespace around it is the shell's or the file's, as for the key file; an empty one
        # is a mistake, not a wish for the file (which would sign out every other server).
        value = configured.strip()
        if len(value) < MIN_LENGTH:
            raise SecretKeyError(
                f"MEDIALIB_SECRET_KEY must be at least {MIN_LENGTH} characters (unset it to use "
                f"{home / FILE_NAME})"
            )
        return ServerSecret(value.encode())
    return ServerSecret(_read_or_make(home / FILE_NAME))


def _read_or_make(path: Path) -> bytes:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(48).encode()
    draft = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole, readable by its owner only, then linked into place: a link never
        # replaces a file, so two processes starting at once on a new home both end up with
        # the one that was linked first, and nobody ever reads half of one.
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(value + b"\n")
        os.link(draft, path)
    except FileExistsError:
        return _read(path)
    except OSError as exc:
        raise SecretKeyError(f"cannot write the server secret {path}: {exc}") from exc
    finally:
        draft.unlink(missing_ok=True)
    return value


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_mode & 0o077:
            log.warning("%s can be read by others than its owner: chmod 600 it", path)
        value = path.read_bytes().strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SecretKeyError(f"cannot read the server secret {path}: {exc}") from exc
    if len(value) < MIN_LENGTH:
        raise SecretKeyError(f"the server secret {path} is shorter than {MIN_LENGTH} characters")
    return value
