"""The server's log lines: plain text for a person at a terminal, one JSON object a line for a
log stack (`MEDIALIB_LOG_FORMAT`), and the context every line of a request, a task or a job
carries without being handed it.

Code logs with the standard library (`logging.getLogger("medialib.…")`); a line's own facts go in
`extra={...}`. What it runs within is bound once, where it begins: the HTTP middleware binds the
request id (and the project, once the token is read), a task its name, an import its job id and
item position. Those live in a context variable, so every line logged within, however deep, has
them, and concurrent requests and tasks never see each other's.

Nothing secret may reach a log: tokens, webhook secrets, signatures in URLs and passwords in
URLs are masked in every line, whatever logged it (uvicorn, a library, an error's text), as the
last step before it is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

import orjson

LogFormat = Literal["auto", "json", "text"]

# The context fields, in the order a line shows them.
CONTEXT_FIELDS = ("request_id", "project", "task", "job_id", "item", "delivery_id")

_context: ContextVar[dict[str, object] | None] = ContextVar("medialib_log_context", default=None)


@contextmanager
def bind(**fields: object) -> Iterator[dict[str, object]]:
    """Every line logged within carries `fields` (beside those bound around it). The mapping
    yielded is this scope's own: `annotate` adds to it from deeper down."""
    scope = {**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(scope)
    try:
        yield scope
    finally:
        _context.reset(token)


def annotate(**fields: object) -> None:
    """Add `fields` to the innermost bound scope, so that its own lines from now on (and the
    one its binder writes at its end: the access line) carry them. Outside any scope: nothing."""
    scope = _context.get()
    if scope is not None:
        scope.update({k: v for k, v in fields.items() if v is not None})


def context() -> Mapping[str, object]:
    return _context.get() or {}


# --- Keeping secrets out ----------------------------------------------------------------------

_SECRETS = (
    # a capability in a query string: an upload URL's signature, a rendition's `s`, S3's
    # presigned parameters, a token sent as `?access_token=`
    (
        re.compile(
            r"(?<=[?&])(signature|s|access_token|token|X-Amz-Signature|X-Amz-Credential|"
            r"X-Amz-Security-Token)=[^&\s\"'<>]*",
            re.IGNORECASE,
        ),
        r"\1=***",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 ***"),
    (re.compile(r"\bmlt_[A-Za-z0-9_-]+"), "mlt_***"),  # medialib's tokens
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), "whsec_***"),  # webhook secrets
    (re.compile(r"\bv1,[A-Za-z0-9+/=]{20,}"), "v1,***"),  # Standard Webhooks signatures
    (re.compile(r"\bsha256=[0-9a-fA-F]{64}\b"), "sha256=***"),  # the original's signature
    # a password (or a token standing for one) in a URL
    (re.compile(r"(?<=://)[^/\s\"'<>]*@"), "***@"),
)


# Any absolute URL's query: an archive's presigned URL names its signature as it likes (`sig`,
# `X-Goog-Signature`, `Signature`…), so a URL in a line keeps its parameters' names only.
_URL_QUERY = re.compile(r"(\bhttps?://[^\s\"'<>?#]*\?)([^\s\"'<>#]*)", re.IGNORECASE)
_VALUE = re.compile(r"=[^&;]*")


def _masked_query(url: re.Match[str]) -> str:
    return url.group(1) + _VALUE.sub("=***", url.group(2))


def hide_secrets(text: str) -> str:
    """`text` with every secret it may quote masked, keeping what says which one it was."""
    text = _URL_QUERY.sub(_masked_query, text)
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


# --- Formats ----------------------------------------------------------------------------------

# What every LogRecord has: anything else on a record came in through `extra`.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_NOT_FACTS = {"color_message"}  # uvicorn's message again, with terminal colours


def _extra(record: logging.LogRecord) -> dict[str, object]:
    return {
        k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and k not in _NOT_FACTS
    }


def _time(record: logging.LogRecord) -> str:
    when = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict[str, object]:
    """The context a line was logged in, then its own facts (which win)."""
    return {**context(), **_extra(record)}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the context, the line's facts."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        text = orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        return hide_secrets(text)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value …`, for a person reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        facts = " ".join(f"{key}={_one_line(value)}" for key, value in _fields(record).items())
        message = _one_line(record.getMessage())
        line = f"{_time(record)} {record.levelname:<7} {record.name}: {message}"
        if facts:
            line += f"  {facts}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return hide_secrets(line)


def _one_line(value: object) -> str:
    """A value on the line it belongs to: a newline in a message (an item's reason quoting what
    an origin said) cannot start a line that looks like another one."""
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


# Libraries that say too much at INFO: httpx logs every request's URL, procrastinate every job,
# libvips every step of a rendition, alembic each of its plugins (its migrations are kept).
_QUIETER = (
    "httpx",
    "httpcore",
    "procrastinate",
    "aiosqlite",
    "asyncio",
    "botocore",
    "pyvips",
    "alembic.runtime.plugins",
)


def resolved_format(setting: LogFormat) -> Literal["json", "text"]:
    """`auto`: text for a person at a terminal, JSON for whatever collects a pipe."""
    if setting != "auto":
        return setting
    return "text" if sys.stderr.isatty() else "json"


def configure(setting: LogFormat, level: int = logging.INFO) -> None:
    """Every line of this process to standard error, in the format `setting` says."""
    handler = logging.StreamHandler(sys.stderr)
    json = resolved_format(setting) == "json"
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIETER:
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's own loggers write through the root's handler (its access log is ours instead).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
