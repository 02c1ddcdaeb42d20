"""Cached renditions are answered before the router (api/rendition_hits.py). Three servers over
one database and one storage get each request as the same bytes, on a raw connection:

- the stack's own, as `medialib serve` runs it;
- `routed`: the same app without the fast path: every request answered by the route, as before;
- `hits_only`: the fast path alone, in front of an app that answers 418 to what it is handed.

A hit's answer is byte for byte the route's (but for its Date line); every other request,
however hostile, gets the route's answer too, never a 500, and `hits_only` shows that the fast
path left it to the route. Both stacks.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from PIL import Image
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from medialib.api.app import create_app as create_api
from medialib.api.protocol import http_options
from medialib.api.rendition_hits import RenditionHits
from medialib.bootstrap import Runtime
from medialib.media.urls import signature
from medialib.settings import Settings
from medialib.web.app import create_app
from tests.api.test_access_log import Lines
from tests.support import pictures
from tests.support.entries import image_asset, image_entry, import_entries, new_key
from tests.support.metrics import scrape
from tests.support.renditions import stored
from tests.support.server import LiveServer
from tests.support.stack import Stack, stack_config

LIBRARY = "/api/2026-05/mediaLibrary"
FELL_THROUGH = 418
REQUEST_ID = b"rendition-hits"
ACCEPT_WEBP = b"Accept: image/webp,*/*\r\n"
TOKEN = "hits-secure-token"
ROUTE = "/media/{key:path}"

# --- The three servers --------------------------------------------------------------------------


@dataclass
class Servers:
    new: tuple[str, int]
    routed: LiveServer
    hits_only: LiveServer

    def stop(self) -> None:
        self.routed.stop()
        self.hits_only.stop()


def start_servers(stack: Stack) -> Servers:
    routed = create_app(runtime=Runtime.from_settings(stack.settings), worker=False)
    routed.user_middleware = [m for m in routed.user_middleware if not is_fast_path(m)]
    options = http_options(stack.settings)
    return Servers(
        (stack.server.host, stack.server.port),
        LiveServer(routed, http=options).start(),
        LiveServer(hits_only(stack.settings), http=options).start(),
    )


def is_fast_path(middleware: Middleware) -> bool:
    return getattr(middleware, "cls", None) is RenditionHits


def hits_only(settings: Settings) -> RenditionHits:
    """The fast path with Renditions as the app makes them, in front of an app answering 418."""
    rt = Runtime.from_settings(settings)
    renditions = create_api(runtime=rt, worker=False).state.api.renditions

    async def fell_through(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await PlainTextResponse("fell through", FELL_THROUGH)(scope, receive, send)
            return
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await rt.close()
        await send({"type": "lifespan.shutdown.complete"})

    return RenditionHits(fell_through, renditions=renditions)


@pytest.fixture(scope="module")
def servers(stack: Stack) -> Iterator[Servers]:
    made = start_servers(stack)
    yield made
    made.stop()


# --- Raw exchanges ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int  # 0: the connection closed with no answer
    raw: bytes  # the whole answer as sent, its Date line taken out

    @property
    def head(self) -> bytes:
        return self.raw.split(b"\r\n\r\n", 1)[0]

    @property
    def body(self) -> bytes:
        return self.raw.split(b"\r\n\r\n", 1)[1]

    def header(self, name: bytes) -> bytes | None:
        found = re.search(rb"\r\n" + name + rb": ([^\r]*)", self.head, re.IGNORECASE)
        return None if found is None else found[1]


_DATE = re.compile(rb"\r\ndate: [^\r]*", re.IGNORECASE)
# hits_only has none of the app's outer middleware: no access log to send the request id back.
_REQUEST_ID = re.compile(rb"\r\nx-request-id: [^\r]*", re.IGNORECASE)


def without_request_id(raw: bytes) -> bytes:
    head, _, body = raw.partition(b"\r\n\r\n")
    return _REQUEST_ID.sub(b"", head, count=1) + b"\r\n\r\n" + body


@dataclass(frozen=True)
class Ask:
    """A request, written exactly as given."""

    target: bytes
    method: bytes = b"GET"
    headers: bytes = b""
    body: bytes = b""

    async def of(self, address: tuple[str, int]) -> Answer:
        reader, writer = await asyncio.open_connection(*address)
        # One write: a body arriving after the answer would meet a closed connection (uvicorn
        # closes on unread bytes with `Connection: close`), and the client a reset.
        writer.write(
            self.method + b" " + self.target + b" HTTP/1.1\r\nHost: media.test\r\n"
            b"X-Request-Id: "
            + REQUEST_ID
            + b"\r\nConnection: close\r\n"
            + self.headers
            + b"\r\n"
            + self.body
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        await writer.wait_closed()
        status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else 0
        return Answer(status, _DATE.sub(b"", raw, count=1))


def ask(
    target: str | bytes, method: bytes = b"GET", headers: bytes = b"", body: bytes = b""
) -> Ask:
    return Ask(target.encode() if isinstance(target, str) else target, method, headers, body)


def address(server: LiveServer) -> tuple[str, int]:
    return server.host, server.port


async def hit(servers: Servers, request: Ask) -> Answer:
    """The request answered by the fast path, byte for byte as the route answers it."""
    routed = await request.of(address(servers.routed))
    new = await request.of(servers.new)
    alone = await request.of(address(servers.hits_only))
    assert new.raw == routed.raw, (request, new.raw[:800], routed.raw[:800])
    assert alone.raw == without_request_id(routed.raw), (request, alone.raw[:800])
    return new


async def routed(servers: Servers, request: Ask, *, alone: bool = True) -> Answer:
    """The request answered as the route answers it, and left to the route by the fast path
    (`alone`: asked of `hits_only` too; not for what the app's outer middleware answers)."""
    before = await request.of(address(servers.routed))
    new = await request.of(servers.new)
    assert new.raw == before.raw, (request, new.raw[:800], before.raw[:800])
    assert new.status not in (0, 500), (request, new.raw[:800])
    if alone:
        left = await request.of(address(servers.hits_only))
        # 418: handed on. Anything else was refused by uvicorn before any app ran.
        same = left.raw == without_request_id(before.raw)
        assert left.status == FELL_THROUGH or same, (request, left.raw[:400])
    return new


# --- The library the requests ask of ------------------------------------------------------------


JPEG = pictures.encode(pictures.quadrants())


@dataclass(frozen=True)
class Library:
    project: str
    picture: str  # its w=100 variants (as JPEG and as WebP) are stored
    large: str  # a PNG whose stored variant is too large to read whole: streamed
    svg: str
    pdf: str
    revoked: str  # each had its variants stored before it was revoked, archived, deleted
    archived: str
    deleted: str
    theirs: str  # another project's picture
    theirs_revoked: str
    revoked_etag: bytes  # the tag of the revoked picture's w=100 variant
    variant: str  # the stored key of the picture's w=100 variant


async def picture_entry(stack: Stack, api: httpx.AsyncClient) -> tuple[str, str]:
    """(key, entry id) of a new entry of a 200x100 JPEG."""
    key = new_key()
    await stack.put_asset(key, JPEG)
    asset = image_asset(key, size=len(JPEG), width=200, height=100)
    [result] = await import_entries(api, [image_entry(key, asset=asset)])
    assert result["ok"], result
    return key, result["id"]


async def patched(api: httpx.AsyncClient, entry_id: str, operation: str) -> None:
    answer = await api.patch(f"{LIBRARY}/{entry_id}", json={"patches": [{"operation": operation}]})
    assert answer.status_code == 200, answer.text


async def make_library(stack: Stack, project: str, other_project: str) -> Library:
    api, other = await stack.api(project), await stack.api(other_project)
    ids = {
        name: await picture_entry(stack, other if name.startswith("theirs") else api)
        for name in ("picture", "revoked", "archived", "deleted", "theirs", "theirs_revoked")
    }
    noise = Image.merge("RGB", [Image.effect_noise((400, 400), 90)] * 3)
    large = await stored(stack, api, pictures.encode(noise, "PNG"), "image/png")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    svg_key = await stored(stack, api, svg, "image/svg+xml", width=10, height=10)
    pdf = new_key("pdf")
    await stack.put_asset(pdf, b"%PDF-1.4 not much\n")
    described = {"key": pdf, "size": 18, "filename": "a.pdf", "mimeType": "application/pdf"}
    [made] = await import_entries(api, [image_entry(pdf, mediaType="file", asset=described)])
    assert made["ok"], made

    public = stack.client()
    tags = {}
    for name, (key, _) in ids.items():  # made and stored: what follows asks for hits
        for query in ("w=100", "w=100&auto=format"):
            answer = await public.get(f"/media/{key}?{query}", headers={"Accept": "image/webp"})
            assert answer.status_code == 200, answer.text
            tags[name, query] = answer.headers["etag"].encode()
    assert (await public.get(f"/media/{large}?w=400&fm=png")).status_code == 200
    await patched(api, ids["revoked"][1], "revokeAsset")
    await patched(api, ids["archived"][1], "archive")
    await patched(other, ids["theirs_revoked"][1], "revokeAsset")
    assert (await api.delete(f"{LIBRARY}/{ids['deleted'][1]}")).status_code == 200
    picture = ids["picture"][0]
    [variant] = [
        k
        for k in await stack.runtime.storage.list_keys(f"v/{picture}")
        if k.endswith(".jpeg") or k.endswith(".jpg")
    ]
    return Library(
        project=project,
        picture=picture,
        large=large,
        svg=svg_key,
        pdf=pdf,
        revoked=ids["revoked"][0],
        archived=ids["archived"][0],
        deleted=ids["deleted"][0],
        theirs=ids["theirs"][0],
        theirs_revoked=ids["theirs_revoked"][0],
        revoked_etag=tags["revoked", "w=100"],
        variant=variant,
    )


@pytest.fixture
async def library(stack: Stack, project: str, other_project: str) -> Library:
    return await make_library(stack, project, other_project)


# --- Hits ---------------------------------------------------------------------------------------


async def test_hits_are_the_routes_answers_byte_for_byte(
    servers: Servers, library: Library
) -> None:
    url = f"/media/{library.picture}?w=100"
    plain = await hit(servers, ask(url))
    assert plain.status == 200
    assert plain.header(b"cache-control") == b"public, max-age=31536000, immutable"
    assert plain.header(b"content-type") == b"image/jpeg"
    assert plain.header(b"x-request-id") == REQUEST_ID
    assert plain.header(b"x-content-type-options") == b"nosniff"
    etag = plain.header(b"etag")
    assert etag is not None
    webp = await hit(servers, ask(f"{url}&auto=format", headers=ACCEPT_WEBP))
    assert (webp.header(b"content-type"), webp.header(b"vary")) == (b"image/webp", b"Accept")
    # auto=format to a client that takes no WebP: the JPEG, which varies by Accept.
    refused = b"Accept: image/webp;q=0, image/jpeg\r\n"
    jpeg = await hit(servers, ask(f"{url}&auto=format", headers=refused))
    assert (jpeg.header(b"content-type"), jpeg.body) == (b"image/jpeg", plain.body)
    head = await hit(servers, ask(url, method=b"HEAD"))
    assert (head.status, head.head, head.body) == (200, plain.head, b"")
    # The same variant asked for otherwise: in another order, repeated (the last counts), with
    # parameters imgix does not know, with a signature no token asks for.
    for query in ("fm=jpg&w=100", "w=50&w=100", "w=100&utm_source=x&v=2", "w=100&s=00"):
        again = await hit(servers, ask(f"/media/{library.picture}?{query}"))
        assert again.body == plain.body
    # With a body: left to the route (answered before its body had arrived, the connection
    # would close on unread bytes: a reset, not the answer). Not asked of `hits_only`, whose
    # stand-in app answers without reading it either.
    with_body = ask(url, headers=b"Content-Length: 5\r\n", body=b"hello")
    assert (await routed(servers, with_body, alone=False)).body == plain.body
    # Conditional requests: the tag held (also weak, among others, or as served unstored), any.
    for held in (etag, b"W/" + etag, b'"other", ' + etag, etag[:-1] + b'-unstored"', b"*"):
        unchanged = await hit(servers, ask(url, headers=b"If-None-Match: " + held + b"\r\n"))
        assert (unchanged.status, unchanged.body) == (304, b"")
    other_tag = await hit(servers, ask(url, headers=b'If-None-Match: "other"\r\n'))
    assert other_tag.status == 200
    # A variant is served whole, whatever Range or If-Modified-Since say.
    for header in (
        b"Range: bytes=0-9\r\n",
        b"Range: bytes=99999999-\r\n",
        b"If-Modified-Since: Wed, 21 Oct 2099 07:28:00 GMT\r\n",
    ):
        assert (await hit(servers, ask(url, headers=header))).body == plain.body
    # The key percent-encoded; another project's picture (/media's URLs name no project: they
    # are public); a variant streamed from storage.
    await hit(servers, ask(f"/media/{library.picture.replace('/', '%2F')}?w=100"))
    assert (await hit(servers, ask(f"/media/{library.theirs}?w=100"))).status == 200
    streamed = await hit(servers, ask(f"/media/{library.large}?w=400&fm=png"))
    assert len(streamed.body) > 256 * 1024


async def test_a_hit_is_counted_and_logged_as_the_route_counts_and_logs_it(
    stack: Stack, library: Library
) -> None:
    lines = Lines()
    access = logging.getLogger("medialib.access")
    level = access.level
    access.addHandler(lines)
    access.setLevel(logging.INFO)
    url = f"/media/{library.picture}?w=100"
    try:
        before = await scrape(stack.url)
        public = stack.client()
        for n in range(3):
            got = await public.get(url, headers={"X-Request-Id": f"hit-{n}"})
            assert got.status_code == 200
        assert (await public.head(url, headers={"X-Request-Id": "hit-head"})).status_code == 200
        after = await scrape(stack.url)
    finally:
        access.removeHandler(lines)
        access.setLevel(level)

    def moved(name: str, **labels: str) -> float:
        return after.total(name, **labels) - before.total(name, **labels)

    assert moved("medialib_renditions_total", result="hit") == 4
    assert moved("medialib_renditions_total", result="miss") == 0
    assert moved("medialib_http_requests_total", route=ROUTE, method="GET", status="200") == 3
    assert moved("medialib_http_requests_total", route=ROUTE, method="HEAD", status="200") == 1
    for request_id, method in [(f"hit-{n}", "GET") for n in range(3)] + [("hit-head", "HEAD")]:
        line = lines.of(request_id)
        assert (line["method"], line["route"], line["status"]) == (method, "/media/{key}", 200)


async def test_a_variant_not_stored_yet_is_left_to_the_route_which_makes_it(
    stack: Stack, servers: Servers, library: Library
) -> None:
    before = stack.renders
    new = ask(f"/media/{library.picture}?w=77")
    assert (await new.of(address(servers.hits_only))).status == FELL_THROUGH
    assert (await new.of(servers.new)).status == 200
    assert stack.renders == before + 1
    await hit(servers, new)  # stored now


async def test_a_revocation_stops_a_cached_variant_at_once(
    stack: Stack, servers: Servers, library: Library
) -> None:
    api = await stack.api(library.project)
    key, entry_id = await picture_entry(stack, api)
    url = ask(f"/media/{key}?w=100")
    assert (await url.of(servers.new)).status == 200  # made
    assert (await hit(servers, url)).status == 200
    await patched(api, entry_id, "revokeAsset")
    assert (await routed(servers, url)).status == 403
    await patched(api, entry_id, "unrevokeAsset")
    assert (await hit(servers, url)).status == 200


# --- Everything else ----------------------------------------------------------------------------


def hostile(lib: Library) -> list[Ask]:
    """What a stranger may send to a rendition URL: each is the route's to answer."""
    pic = lib.picture
    digest = lib.variant.rsplit("/", 1)[1]
    return [
        # Paths out of the storage, or past the library
        ask(f"/media/../{pic}?w=100"),
        ask(f"/media/{pic}/../{pic}?w=100"),
        ask("/media/%2e%2e/%2e%2e/medialib.db?w=100"),
        ask("/media/..%2F..%2Fsecret.key?w=100"),
        ask("/media/../../secret.key?w=100"),
        ask(f"/media/./{pic}?w=100"),
        ask(f"/media//{pic}?w=100"),
        ask(f"/media/%2F{pic}?w=100"),
        ask(f"/media/{pic}/?w=100"),
        ask(f"/media/{pic}%00?w=100"),
        ask(f"/media/{lib.variant}?w=100"),  # a variant's own key: not an asset
        ask(f"/media/{lib.variant}"),
        ask(f"/media/v/{pic}/{digest}?w=100&fm=png"),
        ask("/media/secret.key?w=100"),
        ask("/media/medialib.db?w=100"),
        # Keys that are none, or that no one has
        ask("/media/?w=100"),
        ask("/media/nope.jpg?w=100"),
        ask("/media/%C3%BC.jpg?w=100"),
        ask("/media/a%20b.jpg?w=100"),
        ask("/media/a\tb.jpg?w=100"),
        ask("/media/" + "a" * 2000 + "?w=100"),
        ask("/media/" + "a/" * 511 + "a.jpg?w=100"),
        ask("/media/" + "a" * 70_000 + "?w=100"),
        # Entries that may not be served, or are not pictures
        ask(f"/media/{lib.revoked}?w=100"),
        ask(f"/media/{lib.revoked}?w=100", b"HEAD"),
        ask(f"/media/{lib.revoked}?w=100", headers=b"If-None-Match: " + lib.revoked_etag + b"\r\n"),
        ask(f"/media/{lib.revoked}?w=100", headers=b"If-None-Match: *\r\n"),
        ask(f"/media/{lib.revoked}?w=100", headers=b"Range: bytes=0-9\r\n"),
        ask(f"/media/{lib.revoked}?w=100&auto=format", headers=ACCEPT_WEBP),
        ask(f"/media/{lib.archived}?w=100"),
        ask(f"/media/{lib.deleted}?w=100"),
        ask(f"/media/{lib.deleted}?w=100", b"HEAD"),
        ask(f"/media/{lib.theirs_revoked}?w=100"),
        ask(f"/media/{lib.svg}?w=100"),
        ask(f"/media/{lib.pdf}?w=100"),
        # Parameters with bad values, or none that ask for a rendition
        ask(f"/media/{pic}?w=-1"),
        ask(f"/media/{pic}?w=abc"),
        ask(f"/media/{pic}?w=1e999"),
        ask(f"/media/{pic}?w=%EF%BC%91%EF%BC%90%EF%BC%90"),  # digits of another script
        ask(f"/media/{pic}?w=100&fm=bmp"),
        ask(f"/media/{pic}?w=100&q=101"),
        ask(f"/media/{pic}?w=10&h=10&fit=crop&crop=nonsense"),
        ask(f"/media/{pic}?w=100&rect=1,2,3"),
        ask(f"/media/{pic}?w=100&bg=zzz"),
        ask(f"/media/{pic}?w=100&x=%FF%FE"),
        ask(f"/media/{pic}?w=100&x=\xff".encode("latin-1")),
        ask(f"/media/{pic}?w=100#fragment"),
        ask(f"/media/{pic}?w=100&" + "x=y&" * 10_000),
        ask(f"/media/{pic}?"),
        ask(f"/media/{pic}?utm_source=x"),
        ask(f"/media/{pic}?w"),
        ask(f"/media/{pic}?=&&=w"),
        # Other methods
        *(ask(f"/media/{pic}?w=100", m) for m in (b"POST", b"PUT", b"DELETE", b"PATCH")),
        *(ask(f"/media/{pic}?w=100", m) for m in (b"OPTIONS", b"TRACE", b"FOO", b"get")),
    ]


async def test_hostile_requests_get_the_routes_answers(servers: Servers, library: Library) -> None:
    asked = hostile(library)
    statuses = [(await routed(servers, request)).status for request in asked]

    assert 500 not in statuses
    assert {400, 403, 404, 405}.issubset(statuses), statuses
    # What the app's body caps refuse before the fast path sees it (hits_only has no caps).
    too_large = ask(f"/media/{library.picture}?w=100", headers=b"Content-Length: 100000\r\n")
    assert (await routed(servers, too_large, alone=False)).status == 413


# --- Signed rendition URLs ----------------------------------------------------------------------


@pytest.fixture
async def signed(make_stack) -> AsyncIterator[tuple[Stack, Servers]]:
    config = stack_config() | {"imageService": {"medialib": {"secureToken": TOKEN}}}
    made: Stack = await make_stack(config=config)
    servers = start_servers(made)
    yield made, servers
    servers.stop()


async def test_signed_urls_are_hits_and_unsigned_ones_the_routes_403s(
    signed: tuple[Stack, Servers],
) -> None:
    stack, servers = signed
    api = await stack.api()
    key, _ = await picture_entry(stack, api)
    other, _ = await picture_entry(stack, api)
    good = signature(TOKEN, f"/media/{key}", "w=100")
    made = await ask(f"/media/{key}?w=100&s={good}").of(servers.new)
    assert made.status == 200
    assert (await hit(servers, ask(f"/media/{key}?w=100&s={good}"))).status == 200
    assert (await hit(servers, ask(f"/media/{key}?w=100&s={good.upper()}"))).status == 200
    refused = [
        ask(f"/media/{key}?w=100"),
        ask(f"/media/{key}?w=100&s="),
        ask(f"/media/{key}?w=100&s={'0' * 32}"),
        ask(f"/media/{key}?w=101&s={good}"),  # another variant
        ask(f"/media/{other}?w=100&s={good}"),  # another picture
        ask(f"/media/{key}?s={good}&w=100"),  # imgix puts it last
        ask(f"/media/{key}?w=100&s={good}&s={good}"),
    ]
    for request in refused:
        answer = await routed(servers, request)
        assert answer.status == 403, request
