"""Every error under /ui is the web view's own page: HTML, with the status a browser should
see (404 for what is not there, 400 where FastAPI would say 422), whatever raised it: the
router, FastAPI's checks of a page's parameters, a form body Starlette cannot parse, a page's
own refusal, a database that is away. upload.js's JSON calls are answered in the API's error
shape. Over HTTP."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from medialib.bootstrap import Runtime, prepare
from medialib.db.migrate import migrate
from medialib.settings import Settings
from medialib.web.app import create_app
from tests.support import postgres
from tests.support.entries import stored_image
from tests.support.proxy import TcpProxy
from tests.support.server import LiveServer
from tests.support.stack import Stack, stack_config
from tests.support.web import WebSession, sign_in

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MULTIPART = {"Content-Type": "multipart/form-data; boundary=b"}
NAMELESS_PART = b"--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--\r\n"


def case(
    name: str, request: str, status: int, says: str, headers: Any = None, body: bytes = b""
) -> Any:
    """`request` is "METHOD path"; `{entry}` in the path is an entry's id, `{csrf}` in the
    body the session's CSRF token."""
    method, path = request.split(" ")
    return pytest.param(method, path, headers or {}, body, status, says, id=name)


CASES = [
    case("no-such-page", "GET /ui/nothing-here", 404, "There is no page at /ui/nothing-here."),
    case("no-static-file", "GET /ui/static/no.js", 404, "There is no page at /ui/static/no.js."),
    case(
        "no-such-action",
        "POST /ui/entries/{entry}/bogus",
        404,
        "There is no page at /ui/entries/",
        FORM,
        b"csrf={csrf}",
    ),
    case("flag-not-yes-or-no", "GET /ui/library?archived=maybe", 400, "archived: String should"),
    case("search-too-long", f"GET /ui/library?q={'q' * 501}", 400, "q: String should have at"),
    case("wrong-method", "PUT /ui/library", 405, "PUT is not a method this page takes."),
    case(
        "multipart-without-boundary",
        "POST /ui/entries/{entry}/archive",
        400,
        "Missing boundary in multipart.",
        {"Content-Type": "multipart/form-data"},
        b"x",
    ),
    case(
        "multipart-part-without-name",
        "POST /ui/entries/{entry}/archive",
        400,
        'The Content-Disposition header field "name" must be provided.',
        MULTIPART,
        NAMELESS_PART,
    ),
    case(
        "sign-in-multipart-part-without-name",
        "POST /ui/sign-in",
        400,
        'The Content-Disposition header field "name" must be provided.',
        MULTIPART,
        NAMELESS_PART,
    ),
]


def _text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", page))


@pytest.fixture
async def signed_in(stack: Stack) -> WebSession:
    return await sign_in(stack, await stack.token())


@pytest.mark.parametrize(("method", "path", "headers", "body", "status", "says"), CASES)
async def test_an_error_is_the_web_views_page(
    stack: Stack,
    signed_in: WebSession,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    says: str,
) -> None:
    entry = await stored_image(stack, await stack.api())

    response = await signed_in.client.request(
        method,
        path.format(entry=entry["id"]),
        headers=headers,
        content=body.replace(b"{csrf}", signed_in.csrf.encode()),
    )

    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>Error {status}</h1>" in response.text
    assert says in _text_of(response.text)


async def test_upload_js_gets_the_apis_error_shape(stack: Stack, signed_in: WebSession) -> None:
    json = {"Content-Type": "application/json", "X-CSRF-Token": signed_in.csrf}
    refused = await signed_in.client.post("/ui/uploads", content=b"{", headers=json)
    wrong_method = await signed_in.client.put("/ui/uploads/register", content=b"{}", headers=json)

    assert refused.status_code == 400
    assert refused.json()["error"] == "Bad Request"
    assert refused.json()["error_details"]["body"].startswith("Invalid JSON")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {
        "status": 405,
        "error": "Method Not Allowed",
        "error_details": {"method": "PUT is not a method this page takes."},
    }


async def _behind(proxy: TcpProxy, home: Path) -> Stack:
    """A medialib on a new PostgreSQL database that it reaches through `proxy`."""
    database = postgres.create_database("medialib_web")
    home.mkdir()
    (home / "medialib.yaml").write_text(yaml.safe_dump(stack_config()))
    direct = Runtime.from_settings(Settings(home=home, database_url=database))
    await migrate(direct.db)
    await direct.close()
    through = database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    settings = Settings(home=home, database_url=through, config=home / "medialib.yaml")
    runtime = Runtime.from_settings(settings)
    await prepare(runtime)
    server = LiveServer(create_app(runtime=Runtime.from_settings(settings))).start()
    return Stack("postgres", settings, runtime, server, database_url=database)


@pytest.mark.postgres
async def test_the_database_away_is_a_page_too(tmp_path: Path) -> None:
    proxy = await TcpProxy(5432).start()
    stack = await _behind(proxy, tmp_path / "home")
    try:
        session = await sign_in(stack, await stack.token())
        await proxy.cut()
        away = await session.client.get("/ui/library")
        await proxy.restore()
        back = await session.client.get("/ui/library")
    finally:
        await stack.close()
        await proxy.stop()

    assert away.status_code == 503, away.text[:300]
    assert away.headers["content-type"].startswith("text/html")
    assert away.headers["retry-after"] == "5"
    assert "The database cannot be reached; try again shortly." in _text_of(away.text)
    assert back.status_code == 200
