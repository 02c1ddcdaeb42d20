"""What the HTTP access log may say: a request's path and query, but never a capability in it.

A signed upload URL is worth an upload for an hour to whoever reads it, and a token sent by
mistake as `?access_token=` would be worth the project: the log keeps the parameter's name and
hides its value, so an operator still sees which URL it was.
"""

from __future__ import annotations

import logging
import re

_SECRET_VALUES = re.compile(
    r"(?<=[?&])(signature|access_token|token|X-Amz-Signature|X-Amz-Credential)=[^&\s\"]*",
    re.IGNORECASE,
)


def hide_secrets(text: str) -> str:
    return _SECRET_VALUES.sub(lambda found: f"{found.group(1)}=***", text)


class HiddenSecrets(logging.Filter):
    """Rewrites the arguments of uvicorn's access lines (client, method, path with query...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                hide_secrets(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def hide_secrets_in_access_log() -> None:
    logging.getLogger("uvicorn.access").addFilter(HiddenSecrets())
