"""JSON responses rendered with orjson (a 1000-entry import result is several hundred KB)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_body(status: int, error: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"status": status, "error": error, "error_details": details}
