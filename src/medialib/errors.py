"""One exception hierarchy for everything medialib refuses or fails at.

Services raise these and know nothing of HTTP: `api/errors.py` maps each class to a status and
the API's error shape `{"status": ..., "error": ..., "error_details": {...}}` at the boundary,
the way httpx translates transport errors at one seam.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pydantic


class MedialibError(Exception):
    """Base of every error medialib raises on purpose; `details` name what was wrong, by field."""

    def __init__(self, message: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message or type(self).__name__
        self.details: dict[str, Any] = details if details is not None else {}


class BadRequest(MedialibError):
    """The request is malformed or breaks a rule; `details` map field paths to problems."""


class UnsupportedMediaType(MedialibError):
    """The body is not in a format medialib reads."""


class PayloadTooLarge(MedialibError):
    """The body is larger than the configured limit."""


class Unauthorized(MedialibError):
    """No valid credentials."""


class Forbidden(MedialibError):
    """Valid credentials without the right to do this, or a thing that may not be served."""


class NotFound(MedialibError):
    """Not there, or not this caller's to see (the two are not told apart)."""


class Conflict(MedialibError):
    """The thing is not in the state (or version) the request expects."""


class Gone(MedialibError):
    """Existed once and is retired for good."""


class RangeNotSatisfiable(MedialibError):
    """A byte range that misses a body of `size` bytes."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"the range misses the {size} bytes", {"range": f"The asset has {size} bytes."}
        )
        self.size = size


class TooManyRequests(MedialibError):
    """A limit is reached; trying again after `retry_after` seconds may succeed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, {"message": message})
        self.retry_after = retry_after


class ServiceUnavailable(MedialibError):
    """Something medialib depends on is away; trying again after `retry_after` seconds may work."""

    def __init__(
        self, message: str = "", details: dict[str, Any] | None = None, retry_after: float = 5
    ) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after


class ConfigError(MedialibError):
    """A settings or config file problem that stops the start; the message says where."""


class ItemError(MedialibError):
    """Why one item of an import failed, whoever found it (fetching, probing, the pipeline):
    `code` is the machine-readable reason an item result shows as `reasonCode`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- Field paths ------------------------------------------------------------------------------


def field_path(loc: Sequence[int | str], *, brackets: bool = False) -> str:
    """("patches", 0, "operation") -> "patches.0.operation" (or "patches[0].operation")."""
    out = ""
    for part in loc:
        if brackets and isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def field_problems(
    errors: pydantic.ValidationError | Iterable[Mapping[str, Any]],
    *,
    prefix: Sequence[int | str] = (),
    whole: str = "body",
    brackets: bool = False,
) -> dict[str, str]:
    """Each bad field's path and its problem, in pydantic's order; where pydantic finds several
    problems at one path (a union's alternatives), the first one is kept. A problem with the
    whole input (not an object, say) is filed under `whole`."""
    found = errors.errors() if isinstance(errors, pydantic.ValidationError) else errors
    problems: dict[str, str] = {}
    for error in found:
        path = field_path((*prefix, *error["loc"]), brackets=brackets) or whole
        problems.setdefault(path, str(error["msg"]))
    return problems
