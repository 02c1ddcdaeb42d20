"""The server as the client sees it: the import API over HTTP (aiohttp, JSON by orjson: the
client's own CPU is a share of every import's time), errors translated here.

The job list and the status's `items`/`limit`/`cursor` are medialib's; against a server without
them (the original API) the client reads the documented status answer whole.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import orjson

STATUS_PAGE = 1000
T = TypeVar("T")


class ServerError(Exception):
    """The server refused a request for good (4xx other than 429), or cannot be understood."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Busy(Exception):
    """The server asks to come back later (429, 503), or cannot be reached: then a request may
    have arrived all the same (`unreachable`)."""

    def __init__(self, retry_after: float, why: str, *, unreachable: bool = False) -> None:
        super().__init__(why)
        self.retry_after = retry_after
        self.unreachable = unreachable


async def patiently(call: Callable[[], Awaitable[T]]) -> T:
    """`call()` again while the server asks to wait; a refusal for good goes up."""
    while True:
        try:
            return await call()
        except Busy as busy:
            await asyncio.sleep(busy.retry_after)


class ImportApi:
    def __init__(self, server: str, token: str, version: str) -> None:
        self.base = f"{server.rstrip('/')}/api/{version}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.has_views: bool | None = None  # learnt from the first job list request
        self._session: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running event loop.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60),
                json_serialize=lambda value: orjson.dumps(value).decode(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def start(self, plural: str, body: dict[str, Any]) -> str:
        """POST an import; its job id."""
        answer = await self._call("POST", f"/import/{plural}", json=body)
        job_id = answer.get("id")
        if not isinstance(job_id, str):
            raise ServerError(200, f"no job id in {answer!r:.200}")
        return job_id

    async def recent_jobs(
        self, pages: int = 2, state: str | None = None
    ) -> list[dict[str, Any]] | None:
        """The project's newest jobs (with their `context`), only those in `state` if given;
        None when the server has no list."""
        if self.has_views is False:
            return None
        found: list[dict[str, Any]] = []
        cursor = None
        for _ in range(pages):
            params: dict[str, str | int] = {"limit": 100}
            params |= {"cursor": cursor} if cursor else {}
            params |= {"state": state} if state else {}
            try:
                answer = await self._call("GET", "/import/jobs", params=params)
            except ServerError as error:
                if error.status in (404, 405):
                    self.has_views = False
                    return None
                raise
            self.has_views = True
            found += answer.get("jobs", [])
            cursor = answer.get("cursor")
            if not cursor:
                break
        return found

    async def progress(self, plural: str, job_id: str) -> dict[str, Any]:
        """The job's status without its items (the whole status on a server without views)."""
        params = {"id": job_id} | ({"items": "none"} if self.has_views else {})
        return await self._call("GET", f"/import/{plural}/status", params=params)

    async def items(self, plural: str, job_id: str) -> list[dict[str, Any]]:
        """Every finished item of the job, a page at a time where the server pages them."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"id": job_id}
            if self.has_views:
                params |= {"limit": STATUS_PAGE} | ({"cursor": cursor} if cursor else {})
            answer = await self._call("GET", f"/import/{plural}/status", params=params)
            found += answer.get(plural, [])
            cursor = answer.get("cursor")
            if not self.has_views or not cursor:
                return found

    async def property_types(self) -> dict[str, dict[str, str]]:
        """Each media type's metadata properties and their types (`li-integer`, …), from the
        project config; empty when the server has no such endpoint."""
        try:
            config = await self._call("GET", "/projectConfig")
        except ServerError as error:
            if error.status in (403, 404, 405):  # a token without read scope, the original API
                return {}
            raise
        return {
            str(media_type.get("handle")): {
                str(prop.get("handle")): str(prop.get("type")) for prop in media_type["metadata"]
            }
            for media_type in config.get("mediaTypes", [])
            if isinstance(media_type.get("metadata"), list)
        }

    async def new_upload(self, file_name: str, mime_type: str, size: int) -> dict[str, Any]:
        """Where to PUT a file: `{key, uploadUrl, headers, expiresAt}`."""
        body = {"fileName": file_name, "mimeType": mime_type, "size": size}
        return await self._call("POST", "/mediaLibrary/uploads", json=body)

    async def put_file(self, upload: dict[str, Any], path: Path, size: int) -> None:
        """Stream the file to the upload URL: medialib's own, or a presigned bucket URL, which
        must not see the token (hence a client without it)."""
        headers = dict(upload.get("headers") or {}) | {"Content-Length": str(size)}
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300)
        with path.open("rb") as file:  # aiohttp reads it off the event loop
            status, raw = await self._send(
                "PUT",
                upload["uploadUrl"],
                "the upload URL",
                data=file,
                headers=headers,
                timeout=timeout,
            )
        if status not in (200, 201, 204):
            raise ServerError(status, raw.decode(errors="replace")[:300])

    async def register(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The synchronous import: each entry's result, in order."""
        answer = await self._call(
            "POST", "/import/mediaLibrary", json={"mediaLibraryEntries": entries}
        )
        results = answer.get("results", answer.get("mediaLibraryEntries"))
        if not isinstance(results, list) or len(results) != len(entries):
            raise ServerError(200, f"unexpected answer {answer!r:.200}")
        return results

    async def entry_by_external_id(self, system_name: str, external_id: str) -> str | None:
        params = {"systemName": system_name, "externalId": external_id}
        answer = await self._call("GET", "/mediaLibrary", params=params)
        found = answer.get("results", answer.get("mediaLibraryEntries")) or []
        return str(found[0]["id"]) if found else None

    async def _call(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        status, raw = await self._send(
            method, self.base + path, "the server", headers=self.headers, **options
        )
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        if status != 200 or not isinstance(body, dict):
            raise ServerError(status, _message(body, raw.decode(errors="replace")))
        return body

    async def _send(self, method: str, url: str, what: str, **options: Any) -> tuple[int, bytes]:
        """The answer's status and body; Busy when `what` cannot be reached or asks to wait."""
        try:
            async with self.http.request(method, url, **options) as response:
                status, raw = response.status, await response.read()
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as error:
            why = f"{what} cannot be reached: {_in_words(error, url)}"
            raise Busy(2.0, why, unreachable=True) from error
        if status in (429, 502, 503, 504):
            raise Busy(retry_after, f"HTTP {status}")
        return status, raw


def _in_words(error: Exception, url: str) -> str:
    """What went wrong on the way to `url`, as an operator reads it (aiohttp's reprs name
    connection keys and SSL contexts instead)."""
    # Only scheme, host, port and path: a presigned upload URL's query is a credential.
    where = urlsplit(url)._replace(query="", fragment="").geturl()
    if isinstance(error, aiohttp.ClientConnectorError):
        # asyncio's strerror repeats the address ("Connect call failed ('127.0.0.1', 8999)").
        code = error.os_error.errno
        # A name that does not resolve has a negative (getaddrinfo) code and a plain strerror.
        plain = error.os_error.strerror or str(error.os_error) or "no connection"
        reason = os.strerror(code) if code and code > 0 else plain
        return f"cannot connect to {where}: {reason}"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return f"{where} closed the connection before answering"
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return f"no answer from {where} in time"
    if isinstance(error, aiohttp.InvalidURL):
        return f"{where} is not a valid URL"
    return f"{where}: {error}"


def _retry_after(header: str | None) -> float:
    try:
        return max(0.1, min(300.0, float(header or "2")))
    except ValueError:
        return 2.0


def _message(body: Any, text: str) -> str:
    if isinstance(body, dict) and "error" in body:
        details = body.get("error_details")
        return f"{body['error']}: {details}" if details else str(body["error"])
    return text[:300]
