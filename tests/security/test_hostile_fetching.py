"""What an import URL may point at. Over the network only loopback addresses are used: the
allowed 127.0.0.1, and 127.0.0.2 (and ::1) standing for every address the guard refuses; an
origin listens on 127.0.0.2 so that the tests can count that nothing ever reached it. Every other
address class is covered by the guard's rules as pure functions (tests/test_fetch.py)."""

from __future__ import annotations

import gzip
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from medialib.media.fetch import FetchError, FetchPolicy, parse_networks
from medialib.media.http_fetcher import HttpFetcher
from medialib.media.probe.sniff import Sniffed
from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack
from tests.support.webhooks import Receiver


@pytest.fixture(scope="module")
async def refused_origin() -> AsyncIterator[Origin]:
    """An archive on 127.0.0.2: outside the allowed range, so it must never see a request."""
    server = await Origin(host="127.0.0.2").start()
    yield server
    await server.stop()


def path(name: str) -> str:
    return f"{uuid.uuid4().hex[:10]}/{name}"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/a.jpg", "only http and https"),
        ("gopher://127.0.0.1:70/_GET", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("data:image/png;base64,iVBORw0KGgo=", "data URLs"),
        ("  data:image/png;base64,AAAA", "data URLs"),
        ("http://user:pw@127.0.0.1/a.jpg", "credentials"),
        ("http://@127.0.0.1/a.jpg", "credentials"),
        ("http://2130706434/a.jpg", "not a canonical IPv4"),
        ("http://0x7f000002/a.jpg", "not a canonical IPv4"),
        ("http://0177.0.0.2/a.jpg", "not a canonical IPv4"),
        ("http://0x7f.0.0.2/a.jpg", "not a canonical IPv4"),
        ("http://127.2/a.jpg", "not a canonical IPv4"),
        ("http://127.000.000.002/a.jpg", "not a canonical IPv4"),
        ("http://[::1/a.jpg", "not a valid URL"),
        ("http://127.0.0.1:99999/a.jpg", "not a valid URL"),
        ("http:///a.jpg", "no host"),
        ("http://127.0.0.1/" + "a" * 3000, "longer than 2048"),
    ],
)
async def test_urls_refused_before_any_job(
    stack: Stack, project: str, url: str, problem: str
) -> None:
    api = await stack.api(project)
    before = await stack.snapshot(project)

    response = await api.post(
        "/api/2026-05/import/images",
        json={
            "systemName": "s",
            "images": [{"url": url, "id": "x", "fileName": "x", "metadata": {}}],
        },
    )

    assert response.status_code == 400
    assert problem in response.json()["error_details"]["images.0.url"]
    assert await stack.snapshot(project) == before


async def test_every_refused_address_over_the_network_fails_its_item(
    importer: Importer, origin: Origin, refused_origin: Origin
) -> None:
    secret = path("secret.jpg")
    refused_origin.file(secret, media.jpeg())
    port = refused_origin.port
    redirect_to = origin.redirect
    cases = {
        "v4": f"http://127.0.0.2:{port}/{secret}",
        "v6-loopback": f"http://[::1]:{port}/{secret}",
        "v4-mapped": f"http://[::ffff:127.0.0.2]:{port}/{secret}",
        "v4-mapped-hex": f"http://[::ffff:7f00:2]:{port}/{secret}",
        "v4-mapped-long": f"http://[0:0:0:0:0:ffff:127.0.0.2]:{port}/{secret}",
        "redirect-v4": redirect_to(path("r1"), f"http://127.0.0.2:{port}/{secret}"),
        "redirect-v6": redirect_to(path("r2"), f"http://[::1]:{port}/{secret}"),
        "redirect-decimal": redirect_to(path("r3"), f"http://2130706434:{port}/{secret}"),
        "redirect-file": redirect_to(path("r4"), "file:///etc/passwd"),
        "redirect-relative-scheme": redirect_to(path("r5"), f"//127.0.0.2:{port}/{secret}"),
    }

    status, _ = await importer.run([item(url, name) for name, url in cases.items()])

    results = {i["externalId"]: i for i in status["images"]}
    for name in cases:
        assert results[name]["state"] == "failed", name
        assert results[name]["reasonCode"] in ("blocked_address", "invalid_url"), (
            name,
            results[name],
        )
    assert results["redirect-file"]["reasonCode"] == "invalid_url"
    assert refused_origin.hits[secret] == 0


class ScriptedDNS(AbstractResolver):
    """A resolver that answers what a test says, in turn (a rebinding attacker's DNS)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return None


def _fetcher(dns: ScriptedDNS) -> HttpFetcher:
    policy = FetchPolicy(allow=parse_networks(["127.0.0.1/32"]), retries=0, timeout=5)
    return HttpFetcher(policy, dns=dns)


def _any_type(sniffed: Sniffed) -> int:
    return 10_000_000


async def test_a_name_that_resolves_to_a_refused_address_is_refused(
    refused_origin: Origin, tmp_path: Path
) -> None:
    secret = refused_origin.file(path("s.jpg"), media.jpeg()).split("/", 3)[3]
    fetcher = _fetcher(ScriptedDNS(["127.0.0.2"]))

    with pytest.raises(FetchError) as refused:
        await fetcher.download(
            f"http://archive.test:{refused_origin.port}/{secret}", tmp_path / "x", _any_type
        )

    assert refused.value.code == "blocked_address"
    assert "archive.test resolves to 127.0.0.2" in refused.value.message
    assert refused_origin.hits[secret] == 0
    await fetcher.close()


async def test_one_refused_address_among_the_answers_refuses_them_all(
    origin: Origin, refused_origin: Origin, tmp_path: Path
) -> None:
    name = path("both.jpg")
    origin.file(name, media.jpeg())
    refused_origin.file(name, media.jpeg())
    fetcher = _fetcher(ScriptedDNS(["127.0.0.1", "127.0.0.2"]))

    with pytest.raises(FetchError) as refused:
        await fetcher.download(f"http://mixed.test:{origin.port}/{name}", tmp_path / "x", _any_type)

    assert refused.value.code == "blocked_address"
    await fetcher.close()


async def test_a_post_goes_as_given_and_never_with_credentials_in_its_url() -> None:
    """The fetcher only carries a webhook's request: events/delivery.py builds and signs it and
    makes a receiver's credentials a header. A URL that still holds them is refused, not sent."""
    receiver = await Receiver().start()
    fetcher = _fetcher(ScriptedDNS(["127.0.0.1"]))
    with_credentials = receiver.url().replace("http://", "http://user:pw@", 1)

    with pytest.raises(FetchError) as refused:
        await fetcher.post(with_credentials, b"{}", {}, 5)
    status = await fetcher.post(receiver.url(), b'{"a":1}', {"X-Given": "yes"}, 5)

    assert refused.value.code == "invalid_url"
    assert status == 204
    [sent] = receiver.deliveries
    assert sent.body == {"a": 1}
    assert sent.headers["x-given"] == "yes"
    assert "authorization" not in sent.headers
    await fetcher.close()
    await receiver.stop()


async def test_a_dns_answer_that_changes_after_the_check_is_never_used(
    tmp_path: Path,
) -> None:
    """Rebinding: the first answer is allowed, every later one points at a refused address. The
    connection goes to the address that was checked; DNS is not asked again behind the guard's
    back. Both origins listen on the same port, so only the address decides which one is hit."""
    allowed = await Origin(host="127.0.0.1").start()
    hits: dict[str, int] = {"refused": 0}

    async def count(_: web.Request) -> web.Response:
        hits["refused"] += 1
        return web.Response(body=media.jpeg())

    app = web.Application()
    app.router.add_get("/{tail:.*}", count)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.2", allowed.port).start()
    name = path("rebind.jpg")
    allowed.file(name, media.jpeg(12, 10))
    dns = ScriptedDNS(["127.0.0.1"], ["127.0.0.2"])
    fetcher = _fetcher(dns)

    download = await fetcher.download(
        f"http://rebind.test:{allowed.port}/{name}", tmp_path / "x", _any_type
    )

    assert download.size == len(media.jpeg(12, 10))
    assert allowed.hits[name] == 1
    assert hits["refused"] == 0
    await fetcher.close()
    await runner.cleanup()
    await allowed.stop()


async def test_a_gzip_bomb_is_cut_at_the_cap(make_stack, origin: Origin) -> None:
    stack = await make_stack(file_max_bytes=1_000_000)
    importer = await Importer.open(stack, "demo")
    bomb = gzip.compress(media.PDF + b"\0" * 50_000_000, compresslevel=9)  # 50 MB in ~50 KB

    async def serve(_: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/pdf"}
        )

    url = origin.route(path("bomb.pdf"), serve)

    status, _ = await importer.run([item(url, "bomb")], kind="files")

    assert status["files"][0]["reasonCode"] == "too_large"
    await importer.close()


FILES: list[tuple[str, bytes, str]] = [
    ("gif-html-polyglot", b"GIF89a" + b"<html><script>alert(1)</script></html>", "invalid_image"),
    ("jpeg-zip-polyglot", media.jpeg(200, 150) + b"PK\x03\x04" + b"\0" * 2000, "truncated_image"),
    ("html-with-bom", b"\xef\xbb\xbf  <!DOCTYPE html><html></html>", "unsupported_type"),
    ("html-comment-first", b"<!-- x --><html><body>", "unsupported_type"),
    ("script-only", b"<script>alert(1)</script>", "unsupported_type"),
    ("png-bomb", media.png_bomb(), "too_many_pixels"),
    ("png-bomb-60k", media.png_bomb(60_000, 60_000), "too_many_pixels"),
    ("truncated-png", media.truncated(media.png(300, 200)), "truncated_image"),
    ("truncated-gif", media.truncated(media.gif(300, 200)), "truncated_image"),
    ("truncated-webp", media.truncated(media.webp(300, 200)), "invalid_image"),
    ("truncated-jpeg", media.truncated(media.jpeg(300, 200)), "truncated_image"),
    ("header-only-png", media.png(10, 10)[:33], "invalid_image"),
    ("svg-script", media.SVG_WITH_SCRIPT, "unsafe_svg"),
    (
        "svg-billion-laughs",
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;'
        b'&a;&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">&b;</svg>',
        "unsafe_svg",
    ),
    (
        "svg-external-dtd",
        b'<?xml version="1.0"?><!DOCTYPE svg SYSTEM "http://127.0.0.2/x.dtd">'
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        "unsafe_svg",
    ),
    (
        "svg-javascript-char-refs",
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="jav&#x09;ascript:alert(1)">'
        b"<rect/></a></svg>",
        "unsafe_svg",
    ),
    (
        "svg-data-html",
        b'<svg xmlns="http://www.w3.org/2000/svg">'
        b'<a href="data:text/html,%3Cscript%3Ex%3C/script%3E"><rect/></a></svg>',
        "unsafe_svg",
    ),
    (
        "svg-foreign-object",
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><body xmlns='
        b'"http://www.w3.org/1999/xhtml"><script>x</script></body></foreignObject></svg>',
        "unsafe_svg",
    ),
    (
        "svg-onload-uppercase",
        b'<svg xmlns="http://www.w3.org/2000/svg" ONLOAD="alert(1)"/>',
        "unsafe_svg",
    ),
    (
        "svg-external-image",
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.2/t.png"/></svg>',
        "unsafe_svg",
    ),
    (
        "svg-css-import",
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://127.0.0.2/x.css";'
        b"</style></svg>",
        "unsafe_svg",
    ),
    (
        "svg-not-svg-root",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/2000/svg"/>',
        "unsupported_type",
    ),
    ("empty", b"", "empty_body"),
]


@pytest.mark.parametrize(("body", "code"), [pytest.param(b, c, id=n) for n, b, c in FILES])
async def test_a_lying_or_dangerous_file_fails_with_its_reason(
    stack: Stack, importer: Importer, origin: Origin, body: bytes, code: str
) -> None:
    url = origin.file(path("file.jpg"), body, content_type="image/jpeg")

    status, _ = await importer.run([item(url, "bad")])

    [result] = status["images"]
    assert (result["state"], result["reasonCode"]) == ("failed", code), result
    stored = await importer.api.get(
        "/api/2026-05/mediaLibrary", params={"systemName": "archive", "externalId": "bad"}
    )
    assert stored.json() == {"results": []}
    assert (await stack.client().get("/healthz")).status_code == 200


async def test_a_cookie_one_origin_sets_is_never_sent_with_a_later_download(
    origin: Origin, tmp_path: Path
) -> None:
    """The fetcher serves every project: state an archive hands one download (a session
    cookie) must not ride along with the next request to that host."""
    setter, reader = path("set.jpg"), path("read.jpg")
    cookies_seen: list[str | None] = []

    async def set_cookie(_: web.Request) -> web.StreamResponse:
        response = web.Response(body=media.jpeg(), content_type="image/jpeg")
        response.set_cookie("session", "project-a-secret")
        return response

    async def read_cookie(request: web.Request) -> web.StreamResponse:
        cookies_seen.append(request.headers.get("Cookie"))
        return web.Response(body=media.jpeg(), content_type="image/jpeg")

    origin.route(setter, set_cookie)
    origin.route(reader, read_cookie)
    fetcher = _fetcher(ScriptedDNS(["127.0.0.1"]))

    # A name, not an address: cookie jars keep no cookies of a bare IP address.
    await fetcher.download(origin.url(setter, host="archive.test"), tmp_path / "a", _any_type)
    await fetcher.download(origin.url(reader, host="archive.test"), tmp_path / "b", _any_type)
    await fetcher.close()

    assert cookies_seen == [None]


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [("\u00b2", None), ("1e9", None), ("-5", None), ("7", 7.0), ("9" * 5000, 60.0)],
    ids=["superscript", "exponent", "negative", "seconds", "long"],
)
async def test_a_retry_after_is_ascii_seconds_or_no_delay_of_its_own(
    origin: Origin, tmp_path: Path, retry_after: str, delay: float | None
) -> None:
    """An archive's Retry-After is anybody's text: only ASCII digits are a delay ('²' passed
    `str.isdigit` and broke `float`, failing the item with no reason), at most a minute."""

    async def busy(_: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": retry_after})

    url = origin.route(path("busy.jpg"), busy).replace("127.0.0.1", "busy.test")
    fetcher = _fetcher(ScriptedDNS(["127.0.0.1"]))

    with pytest.raises(FetchError) as failed:
        await fetcher.download(url, tmp_path / "x", _any_type)

    assert failed.value.code == "http_503"
    assert failed.value.retry_after == delay
    await fetcher.close()
