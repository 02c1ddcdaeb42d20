"""The access line of every request, and the request id an answer carries back: a caller's own
id when it is sane, a new one for anything else, on every kind of answer (an API call, a 404 no
route matched, a body refused before it is read, a page of the web view)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from medialib import logs
from tests.support.sessions import sign_in
from tests.support.stack import Stack

V = "/api/2026-05"
NEW_ID = re.compile(r"[0-9a-f]{32}")


class Lines(logging.Handler):
    """The access lines, as `MEDIALIB_LOG_FORMAT=json` writes them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def of(self, request_id: str) -> dict[str, Any]:
        [line] = [line for line in self.lines if line["request_id"] == request_id]
        return line


@pytest.fixture
def access() -> Iterator[Lines]:
    logger = logging.getLogger("medialib.access")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_a_sane_request_id_is_kept_and_named_on_the_line(
    stack: Stack, project: str, access: Lines
) -> None:
    api = await stack.api(project)
    answer = await api.get(f"{V}/mediaLibrary", headers={"X-Request-Id": "proxy-7.a:b_c"})

    assert answer.status_code == 200
    assert answer.headers.get_list("x-request-id") == ["proxy-7.a:b_c"]
    line = access.of("proxy-7.a:b_c")
    assert (line["method"], line["route"], line["status"]) == (
        "GET",
        "/api/{version}/mediaLibrary",
        200,
    )
    assert line["project"] == project
    assert line["duration_ms"] >= 0


@pytest.mark.parametrize(
    "given",
    [
        b"x" * 129,  # too long
        b"",  # empty
        b"two words",
        b'"},{"level":"error',  # a try at breaking the line's JSON
        "id\u00e9".encode(),  # bytes beyond ASCII
        b"a/b",
    ],
    ids=["long", "empty", "space", "json", "non-ascii", "slash"],
)
async def test_any_other_request_id_is_replaced_by_a_new_one(
    stack: Stack, project: str, access: Lines, given: bytes
) -> None:
    api = await stack.api(project)
    answer = await api.get(f"{V}/mediaLibrary", headers=[(b"X-Request-Id", given)])

    assert answer.status_code == 200
    [request_id] = answer.headers.get_list("x-request-id")
    assert NEW_ID.fullmatch(request_id)
    assert access.of(request_id)["status"] == 200


async def test_every_kind_of_answer_has_its_line_and_its_id(stack: Stack, access: Lines) -> None:
    client = stack.client()
    unknown = await client.get("/no/such/page?token=abc")
    unauthorized = await client.get(f"{V}/mediaLibrary")
    too_large = await client.post(
        f"{V}/import/images", content=b"x" * (stack.settings.max_body_bytes + 1)
    )
    page = await client.get("/ui/sign-in")

    expected = [
        (unknown, 404, None),
        (unauthorized, 401, "/api/{version}/mediaLibrary"),
        (too_large, 413, None),  # refused before any route was chosen
        (page, 200, "/ui/sign-in"),
    ]
    for answer, status, route in expected:
        assert answer.status_code == status, answer.text
        line = access.of(answer.headers["x-request-id"])
        assert (line["status"], line["route"]) == (status, route)
        assert "project" not in line  # no token was read


async def test_a_web_view_page_names_the_signed_in_project(
    stack: Stack, project: str, access: Lines
) -> None:
    browser = stack.client()
    await sign_in(browser, await stack.token(project))

    page = await browser.get("/ui/jobs")

    assert page.status_code == 200, page.text
    line = access.of(page.headers["x-request-id"])
    assert (line["route"], line["project"]) == ("/ui/jobs", project)
