"""The HTTP protocol the app is served with (api/protocol.py): httptools, with bounds on a
request's head (its size and its time) and on a body's pace, which httptools has not. Giant heads
from hostile clients are in tests/security/test_hostile_requests.py; here, the bounds' edges."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import orjson
import pytest

from medialib.api.protocol import MAX_HEAD_BYTES
from tests.support.process import ServerProcess
from tests.support.raw_http import RawConnection
from tests.support.stack import Stack, start_stack


def _exchange(stack: Stack, request: bytes) -> bytes:
    """Send `request` on a connection of its own; the answer's status line."""
    with socket.create_connection((stack.server.host, stack.server.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            received = sock.recv(4096)
            if not received:
                break
            answer += received
    return answer.split(b"\r\n", 1)[0]


def _get(path: str, extra_headers: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra_headers + b"\r\n"


async def test_a_head_just_under_the_bound_is_served(stack: Stack) -> None:
    header = b"X-Big: " + b"a" * (MAX_HEAD_BYTES - 1024) + b"\r\n"

    assert _exchange(stack, _get("/healthz", header)) == b"HTTP/1.1 200 OK"


async def test_a_head_one_byte_over_the_bound_is_431_even_unfinished(stack: Stack) -> None:
    start = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
    filler = b"a" * (MAX_HEAD_BYTES - len(start))
    with socket.create_connection((stack.server.host, stack.server.port), timeout=10) as sock:
        sock.sendall(start)
        for at in range(0, len(filler), 4096):  # up to the bound, not over it
            sock.sendall(filler[at : at + 4096])
        # One byte over, and the head has not even ended. (Nothing follows it: bytes still
        # unread when the server closes would make its kernel reset the connection.)
        sock.sendall(b"a")
        answer = b""
        while received := sock.recv(4096):  # until the server closes the connection
            answer += received

    assert answer.startswith(b"HTTP/1.1 431 ")
    assert answer.endswith(b"\r\n\r\nRequest head too large")


async def test_a_large_body_after_a_small_head_is_not_taken_for_a_head(
    stack: Stack, project: str
) -> None:
    # The body arrives in the same reads as the head: only the head's bytes count.
    api = await stack.api(project)
    token = api.headers["Authorization"].encode()
    body = orjson.dumps({"mediaLibraryEntries": [{"mediaType": 1}]}) + b" " * 1_000_000
    request = (
        b"POST /api/2026-05/import/mediaLibrary HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: " + token + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )

    assert _exchange(stack, request) == b"HTTP/1.1 200 OK"  # judged: one entry refused


async def test_the_heads_of_many_requests_on_one_connection_do_not_add_up(stack: Stack) -> None:
    connection = http.client.HTTPConnection(stack.server.host, stack.server.port, timeout=10)
    statuses, ports = [], set()
    for _ in range(2 * MAX_HEAD_BYTES // 4096):
        connection.request("GET", "/healthz", headers={"X-Padding": "p" * 4096})
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        ports.add(connection.sock.getsockname()[1])
    connection.close()

    assert statuses == [200] * len(statuses)
    assert len(ports) == 1  # one connection throughout


# However a head is written, and whatever shares its writes, the bound is the same: a head of
# MAX_HEAD_BYTES is served, one byte more is a 431. (httptools ends a head inside the read that
# brings its end; counting by reads let a 100 KB head through when it came in one.)


def _head(size: int, extra: bytes = b"") -> bytes:
    """A GET /healthz head of exactly `size` bytes (a padding header makes up the size)."""
    start = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + extra + b"X-Pad: "
    return start + b"p" * (size - len(start) - 4) + b"\r\n\r\n"


BODY = b"b" * 60_000  # under the 64 KB every route but the API takes; /healthz drops it
SMALL = _head(200)
ANSWERED = b""  # in a shape's writes: wait for the answers to the requests written so far


def _with_body(size: int) -> bytes:
    return _head(size, b"Content-Length: %d\r\n" % len(BODY)) + BODY


# name: the writes carrying a head of `size` bytes, and the requests written before that head.
SHAPES: dict[str, Callable[[int], tuple[list[bytes], int]]] = {
    "in one write": lambda size: ([_head(size)], 0),
    "in writes of 4 KB": lambda size: (_pieces(_head(size), 4096), 0),
    "with its body in the same write": lambda size: ([_with_body(size)], 0),
    "after an exchange on the kept-alive connection": lambda size: (
        [SMALL, ANSWERED, _head(size)],
        1,
    ),
    "after an exchange with a body on the kept-alive connection": lambda size: (
        [_with_body(200), ANSWERED, _head(size)],
        1,
    ),
    "pipelined behind a request, in one write": lambda size: ([SMALL + _head(size)], 1),
}


async def _connect(stack: Stack) -> RawConnection:
    return await RawConnection.open(stack.server.host, stack.server.port)


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[at : at + size] for at in range(0, len(data), size)]


async def _write(connection: RawConnection, writes: list[bytes]) -> list[int]:
    """Send `writes`; the statuses answered at each ANSWERED."""
    statuses: list[int] = []
    written = 0
    for write in writes:
        if write is ANSWERED:
            while len(statuses) < written:
                statuses.append((await connection.response())[0])
        else:
            await connection.send(write)
            written += write.count(b"GET ")
    return statuses


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_head_of_the_bound_is_served_however_it_comes(stack: Stack, shape: str) -> None:
    writes, before = SHAPES[shape](MAX_HEAD_BYTES)
    connection = await _connect(stack)

    statuses = await _write(connection, writes)
    while len(statuses) < before + 1:
        statuses.append((await connection.response())[0])
    await connection.close()

    assert statuses == [200] * (before + 1)


@pytest.mark.parametrize("shape", [*SHAPES, "pipelined behind a request and its body"])
async def test_a_head_one_byte_over_the_bound_is_431_however_it_comes(
    stack: Stack, shape: str
) -> None:
    # Behind another request's body in the same read, a head is charged from that read's last
    # blank line (the parser does not say where the body ended): a 431 never comes late.
    if shape in SHAPES:
        writes, before = SHAPES[shape](MAX_HEAD_BYTES + 1)
    else:
        writes, before = [_with_body(200) + _head(MAX_HEAD_BYTES + 1)], 1
    connection = await _connect(stack)

    statuses = await _write(connection, writes)
    while len(statuses) < before:  # the requests before it are answered first, in order
        statuses.append((await connection.response())[0])
    rest = bytes(await connection.closed())[connection.taken :]

    assert statuses == [200] * before
    assert rest.startswith(b"HTTP/1.1 431 ")
    assert rest.endswith(b"\r\n\r\nRequest head too large")


# Time. A stack of its own, whose deadlines are fractions of a second (MEDIALIB_HEAD_TIMEOUT,
# MEDIALIB_BODY_TIMEOUT): each test waits for the server to close the connection, however long
# that takes, and the sleeps in them are the client's pace, never a wait before a check.

HEAD_TIMEOUT = 0.3
BODY_TIMEOUT = 0.5
IMPORT = b"POST /api/2026-05/import/mediaLibrary HTTP/1.1\r\nHost: x\r\n"


@pytest.fixture(scope="module")
async def timed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("deadlines")
    timed = await start_stack("sqlite", home, head_timeout=HEAD_TIMEOUT, body_timeout=BODY_TIMEOUT)
    yield timed
    await timed.close()


async def _import_head(timed: Stack, length: int) -> bytes:
    """The head of an import with a body of `length` bytes, which the app waits for."""
    token = (await timed.token()).encode()
    return (
        IMPORT + b"Authorization: Bearer " + token + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % length
    )


@contextlib.asynccontextmanager
async def _trickling(
    connection: RawConnection, pieces: Iterator[bytes], every: float
) -> AsyncIterator[None]:
    """Send `pieces`, one every `every` seconds, for as long as the block runs."""

    async def trickle() -> None:
        for piece in pieces:
            await connection.send(piece)
            await asyncio.sleep(every)

    sending = asyncio.create_task(trickle())
    try:
        yield
    finally:
        sending.cancel()


async def test_a_connection_that_sends_nothing_is_closed_without_an_answer(timed: Stack) -> None:
    connection = await _connect(timed)

    assert await connection.closed() == b""


async def test_a_head_sent_a_line_at_a_time_gets_a_408_at_its_deadline(timed: Stack) -> None:
    # Each line comes well within the deadline: only a deadline for the whole head ends it.
    started = time.monotonic()
    connection = await _connect(timed)
    await connection.send(b"GET /healthz HTTP/1.1\r\n")
    lines = (b"X-Line-%d: v\r\n" % n for n in itertools.count())
    async with _trickling(connection, lines, HEAD_TIMEOUT / 6):
        answer = await connection.closed()

    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert answer.endswith(b"\r\n\r\nRequest head not received in time")
    assert time.monotonic() - started >= HEAD_TIMEOUT


async def test_the_next_head_on_a_kept_alive_connection_is_timed_from_its_first_byte(
    timed: Stack,
) -> None:
    connection = await _connect(timed)
    await connection.send(SMALL)
    first = await connection.response()
    # Idle between requests is keep-alive's time (5 s), not the head's: the connection is
    # still there after longer than the head's deadline.
    await asyncio.sleep(2 * HEAD_TIMEOUT)
    await connection.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and no end
    rest = (await connection.closed())[connection.taken :]

    assert first[0] == 200
    assert rest.startswith(b"HTTP/1.1 408 ")


async def test_hundreds_of_half_open_connections_are_all_let_go(timed: Stack) -> None:
    connections = []
    for n in range(300):  # every other one sends half a head, the others nothing
        connections.append(connection := await _connect(timed))
        if n % 2 == 0:
            await connection.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Half: ")

    answers = await asyncio.gather(*(connection.closed() for connection in connections))

    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers[::2])
    assert all(answer == b"" for answer in answers[1::2])
    assert (await timed.client().get("/healthz")).status_code == 200


async def test_a_body_is_timed_by_what_it_brings_not_by_how_long_it_takes(timed: Stack) -> None:
    body = orjson.dumps({"mediaLibraryEntries": [{"mediaType": 1, "pad": "p" * 20_000}]})
    connection = await _connect(timed)
    # 2 KB every fifth of a window: slow, over several windows, and served.
    await connection.send(await _import_head(timed, len(body)))
    for piece in _pieces(body, 2048):
        await asyncio.sleep(BODY_TIMEOUT / 5)
        await connection.send(piece)
    served = await connection.response()
    # The same again, and it stops half way: the connection is closed, and nothing answered.
    await connection.send(await _import_head(timed, len(body)) + body[: len(body) // 2])
    rest = (await connection.closed())[connection.taken :]

    assert served[0] == 200  # judged: the entry is refused
    assert rest == b""


async def test_a_body_trickled_a_byte_at_a_time_is_closed_even_without_a_token(
    timed: Stack,
) -> None:
    # The attack as found: no token (the app answers 401 at once; uvicorn reads the rest of the
    # body to drop it, and each byte put off its keep-alive timeout).
    connection = await _connect(timed)
    await connection.send(IMPORT + b"Content-Length: 1000000\r\n\r\n")
    async with _trickling(connection, itertools.repeat(b"x"), BODY_TIMEOUT / 20):
        answer = await connection.closed()

    assert answer.startswith(b"HTTP/1.1 401 ")


async def test_medialib_serve_takes_its_deadlines_from_the_environment(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env={"MEDIALIB_HEAD_TIMEOUT": str(HEAD_TIMEOUT)})
    command = ("serve", "--port", str(server.port), "--no-worker")
    await asyncio.to_thread(server.start, *command, ready="Uvicorn running on")  # bound
    try:
        connection = await RawConnection.open("127.0.0.1", server.port)
        await connection.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = await connection.closed()
    finally:
        server.stop()

    assert answer.startswith(b"HTTP/1.1 408 ")


async def test_a_client_that_hangs_up_mid_body_is_no_fault_of_the_servers(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """Starlette raises ClientDisconnect to a route reading the body: it was logged as an
    unhandled error, traceback and all, on every hang-up (and on every stalled body cut off)."""
    caplog.set_level(logging.INFO)
    token = (await stack.token()).encode()
    connection = await _connect(stack)
    await connection.send(
        IMPORT + b"Authorization: Bearer " + token + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n" + b'{"mediaLibraryEntries": ['
    )
    connection.writer.close()  # hangs up

    async with asyncio.timeout(10):
        while "went away before its body arrived" not in caplog.text:
            await asyncio.sleep(0.01)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
