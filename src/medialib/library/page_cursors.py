"""The `after` cursors of the reference lists (incomingDocumentReferences,
incomingMediaReferences): the last key of a page, tagged with what it is a key of, in URL-safe
base64. A cursor of the wrong tag, shape or size is a 400, never a query."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from medialib.errors import BadRequest

MAX_CURSOR = 64


def encode(tag: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{tag}|{key}".encode()).decode().rstrip("=")


def decode(tag: str, cursor: str, valid: Callable[[str], bool]) -> str:
    """The key of a cursor `encode(tag, ...)` made, if `valid` takes it."""
    raw = ""
    if len(cursor) <= MAX_CURSOR:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except (ValueError, binascii.Error):
            raw = ""
    found, _, key = raw.partition("|")
    if found != tag or not valid(key):
        raise BadRequest("bad cursor", details={"after": "is not a cursor this API gave"})
    return key
