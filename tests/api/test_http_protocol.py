"""The HTTP protocol the app is served with (api/protocol.py): httptools, with a bound on a
request's head that h11 had and httptools has not. Giant heads from hostile clients are in
tests/security/test_hostile_requests.py; here, the bound's edges."""

from __future__ import annotations

import http.client
import socket

import orjson

from medialib.api.protocol import MAX_HEAD_BYTES
from tests.support.stack import Stack


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
