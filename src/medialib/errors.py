"""One exception hierarchy for everything medialib refuses or fails at.

Services raise these; the HTTP layer turns them into the API's error shape
`{"status": ..., "error": ..., "error_details": {...}}` in one place (api/errors.py).
"""

from __future__ import annotations

from typing import Any


class MedialibError(Exception):
    """Base of every error medialib raises on purpose."""

    status = 500
    error = "Internal Server Error"

    def __init__(self, message: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(message or self.error)
        self.message = message or self.error
        self.details: dict[str, Any] = details if details is not None else {}
        self.headers: dict[str, str] = {}


class BadRequest(MedialibError):
    status = 400
    error = "Bad Request"


class ValidationError(BadRequest):
    """Input that has the right form but breaks a rule; details name the field paths."""

    error = "ValidationError"


class Unauthorized(MedialibError):
    status = 401
    error = "Unauthorized"


class Forbidden(MedialibError):
    status = 403
    error = "Forbidden"


class NotFound(MedialibError):
    status = 404
    error = "Not Found"


class Conflict(MedialibError):
    status = 409
    error = "Conflict"


class Gone(MedialibError):
    status = 410
    error = "Gone"


class PayloadTooLarge(MedialibError):
    status = 413
    error = "Payload Too Large"


class RangeNotSatisfiable(MedialibError):
    status = 416
    error = "Range Not Satisfiable"


class TooManyRequests(MedialibError):
    status = 429
    error = "Too Many Requests"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, {"message": message})
        self.headers["Retry-After"] = str(max(1, round(retry_after + 0.5)))


class ServiceUnavailable(MedialibError):
    """Something medialib depends on is away; `Retry-After` says when to try again."""

    status = 503
    error = "Service Unavailable"

    def __init__(
        self, message: str = "", details: dict[str, Any] | None = None, retry_after: int = 5
    ) -> None:
        super().__init__(message, details)
        self.headers["Retry-After"] = str(retry_after)


class ConfigError(MedialibError):
    """A settings or config file problem that stops the start; the message says where."""
