"""Every route caps its body before reading it (api/bodies.py), on the whole HTTP process: the
API, the signed upload URLs and the web view at /ui.

Raw HTTP/1.1 over a socket: a test decides exactly how much of a body is sent before it waits
for the answer, so that "refused having read at most the cap and one chunk" is shown by the
answer arriving while the client still holds the rest of its body, with no timing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest

from medialib.api.bodies import SMALL_BODY_BYTES
from medialib.web.session import COOKIE
from tests.support.sessions import sign_in
from tests.support.stack import Stack

CHUNK = 16 * 1024
ANSWER_WITHIN = 30.0  # seconds; only a server that never answers (waiting for more) waits this


class Connection:
    """One HTTP/1.1 connection to the server, spoken by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_head(self, method: str, path: str, headers: dict[str, str]) -> None:
        lines = [f"{method} {path} HTTP/1.1", "Host: medialib.test"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def send_chunks(self, total: int, fill: bytes = b"a") -> None:
        """`total` bytes of a chunked body, CHUNK at a time, without its end."""
        while total > 0:
            size = min(CHUNK, total)
            await self.send(b"%x\r\n%s\r\n" % (size, fill * size))
            total -= size

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        return await asyncio.wait_for(self._answer(), ANSWER_WITHIN)

    async def _answer(self) -> tuple[int, dict[str, str], bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, body

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


Connect = Callable[[], Awaitable[Connection]]


@pytest.fixture
async def connect(web: Stack) -> AsyncIterator[Connect]:
    opened: list[Connection] = []

    async def open_one() -> Connection:
        reader, writer = await asyncio.open_connection(web.server.host, web.server.port)
        opened.append(Connection(reader, writer))
        return opened[-1]

    yield open_one
    for one in opened:
        await one.close()


def _is_413(status: int, body: bytes, cap: int) -> None:
    assert status == 413, body[:300]
    assert orjson.loads(body) == {
        "status": 413,
        "error": "Payload Too Large",
        "error_details": {"body": f"The body must not be larger than {cap} bytes."},
    }


async def _signed_in(web: Stack) -> dict[str, str]:
    """The headers of a signed-in page's JSON call (upload.js's): the session, the CSRF token."""
    client = web.client()
    csrf = await sign_in(client, await web.token())
    return {"Cookie": f"{COOKIE}={client.cookies[COOKIE]}", "X-CSRF-Token": csrf}


def _caps(web: Stack) -> dict[str, int]:
    settings = web.settings
    largest_upload = max(
        settings.image_max_bytes,
        settings.animated_max_bytes,
        settings.file_max_bytes,
        settings.video_max_bytes,
    )
    return {"api": settings.max_body_bytes, "upload": largest_upload, "small": SMALL_BODY_BYTES}


@pytest.mark.parametrize(
    ("method", "path", "family"),
    [
        ("POST", "/ui/uploads", "small"),  # the web view's JSON
        ("POST", "/ui/sign-in", "small"),  # its forms
        ("POST", "/api/2026-05/import/mediaLibrary", "api"),
        ("PUT", "/uploads/2026/12/07/a.jpeg?project=demo&size=1", "upload"),
        ("GET", "/healthz", "small"),  # and every other route
        ("GET", "/media/2026/12/07/a.jpeg", "small"),
    ],
)
async def test_a_declared_body_over_its_routes_cap_is_413_before_a_byte_is_read(
    web: Stack, connect: Connect, method: str, path: str, family: str
) -> None:
    cap = _caps(web)[family]
    connection = await connect()

    # The head only: the server must answer without waiting for a byte of the body (and
    # without inviting it: no "100 Continue").
    head = {"Content-Length": str(cap + 1), "Expect": "100-continue"}
    await connection.send_head(method, path, head)

    status, _, body = await connection.answer()
    _is_413(status, body, cap)


async def test_a_chunked_body_to_the_web_views_json_is_refused_past_its_cap(
    web: Stack, connect: Connect
) -> None:
    connection = await connect()
    await connection.send_head(
        "POST",
        "/ui/uploads",
        await _signed_in(web)
        | {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )

    # Of a 200 MB body, the cap and one chunk: the answer comes with the rest still unsent.
    await connection.send_chunks(SMALL_BODY_BYTES + CHUNK, fill=b" ")

    status, _, body = await connection.answer()
    _is_413(status, body, SMALL_BODY_BYTES)


async def test_a_chunked_form_is_refused_past_its_cap_and_the_connection_goes_on(
    web: Stack, connect: Connect
) -> None:
    connection = await connect()
    form = {"Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"}
    await connection.send_head("POST", "/ui/sign-in", form)
    await connection.send_chunks(SMALL_BODY_BYTES + CHUNK)

    status, _, body = await connection.answer()
    _is_413(status, body, SMALL_BODY_BYTES)

    # The client sends the rest of its body as it meant to (the server reads it and throws it
    # away), then its next request on the same connection.
    await connection.send_chunks(1024 * 1024)
    await connection.send(b"0\r\n\r\n")
    await connection.send_head("GET", "/healthz", {})
    status, _, body = await connection.answer()
    assert (status, orjson.loads(body)) == (200, {"status": "ok"})


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_of_exactly_the_cap_is_read_and_one_byte_more_is_not(
    web: Stack, connect: Connect, chunked: bool
) -> None:
    asked = orjson.dumps({"fileName": "a.jpg", "mimeType": "image/jpeg", "size": 10})
    exact = asked + b" " * (SMALL_BODY_BYTES - len(asked))  # JSON may end in spaces
    signed_in = await _signed_in(web) | {"Content-Type": "application/json"}
    answers = []
    for body in (exact, exact + b" "):
        connection = await connect()
        framing = (
            {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(len(body))}
        )
        await connection.send_head("POST", "/ui/uploads", signed_in | framing)
        # Unfinished: a chunked body without its last chunk, a declared one without its last byte.
        await connection.send(b"%x\r\n%s\r\n" % (len(body), body) if chunked else body[:-1])
        if body == exact:
            await connection.send(b"0\r\n\r\n" if chunked else body[-1:])
        answers.append(await connection.answer())

    (read, _, where), (refused, _, body) = answers
    assert read == 200, where  # read whole, and a place to upload to given
    assert "uploadUrl" in orjson.loads(where)
    _is_413(refused, body, SMALL_BODY_BYTES)
