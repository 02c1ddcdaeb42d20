"""Every answer under /ui carries the security headers of web/headers.py, whatever gives it: a
page, an htmx fragment, a redirect, a static file, an error page, upload.js's JSON, the body
caps' 413 (which answers before the web view runs). The policy names the origins the pages
show images from and upload to, taken from the settings, and nothing else. Over HTTP, on both
backends (PostgreSQL's stack keeps its assets in S3)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from medialib.errors import ConfigError
from medialib.settings import Settings
from medialib.web.app import create_app
from tests.support.entries import stored_image
from tests.support.s3 import MotoS3
from tests.support.stack import Stack
from tests.support.web import sign_in
from tests.web.conftest import start_web_stack

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
# What every policy says whatever the settings; img-src, media-src and connect-src depend on them.
FIXED = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def policy_of(response: httpx.Response) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for directive in response.headers["content-security-policy"].split(";"):
        name, *sources = directive.split()
        assert name not in directives, f"{name} twice"
        directives[name] = sources
    return directives


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _answers(stack: Stack) -> list[tuple[str, int, httpx.Response]]:
    """(what, the status it must have, the answer) for each kind of answer under /ui."""
    session = await sign_in(stack, await stack.token())
    web, csrf = session.client, session.csrf
    entry = await stored_image(stack, await stack.api())
    stranger = stack.client()
    htmx = {"HX-Request": "true"}
    bad_json = {"Content-Type": "application/json", "X-CSRF-Token": csrf}
    return [
        ("a page", 200, await web.get("/ui/library")),
        ("an entry's page", 200, await web.get(f"/ui/entries/{entry['id']}")),
        ("an htmx fragment", 200, await web.get("/ui/jobs", headers=htmx)),
        ("the sign-in form", 200, await stranger.get("/ui/sign-in")),
        ("a static file", 200, await web.get("/ui/static/upload.js")),
        ("/ui itself", 307, await web.get("/ui")),
        ("a redirect to sign in", 303, await stranger.get("/ui/jobs")),
        ("htmx's redirect to sign in", 204, await stranger.get("/ui/jobs", headers=htmx)),
        (
            "a form's redirect",
            303,
            await session.post_form(f"/ui/entries/{entry['id']}/archive", {}),
        ),
        ("no such page", 404, await web.get("/ui/nothing-here")),
        ("no such static file", 404, await web.get("/ui/static/nothing.js")),
        ("a refused parameter", 400, await web.get("/ui/library?archived=maybe")),
        ("a refused form", 403, await web.post(f"/ui/entries/{entry['id']}/revoke")),
        ("upload.js's refusal", 400, await web.post("/ui/uploads", content=b"{", headers=bad_json)),
        ("the body cap", 413, await web.post("/ui/sign-in", content=b"a" * 70_000)),
    ]


async def test_every_answer_under_ui_carries_the_headers(stack: Stack) -> None:
    for what, status, response in await _answers(stack):
        assert response.status_code == status, (what, response.text[:300])
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (what, name)
        policy = policy_of(response)
        assert {k: v for k, v in policy.items() if k in FIXED} == FIXED, what
        assert set(policy) == set(FIXED) | {"img-src", "media-src", "connect-src"}, what
    api = await (await stack.api()).get("/api/2026-05/mediaLibrary")
    assert "content-security-policy" not in api.headers  # the API's JSON is not the web view


@pytest.mark.parametrize("storage", ["local", "s3"])
async def test_the_policy_names_the_origins_of_images_and_uploads(
    storage: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    s3: MotoS3 | None = request.getfixturevalue("s3_server") if storage == "s3" else None
    stack = await start_web_stack(
        tmp_path / "home",
        s3,
        rendition_url="https://renditions.example:8443/media",
        public_url="https://CDN.example/assets/",
    )
    try:
        session = await sign_in(stack, await stack.token())
        asked = {"fileName": "a.png", "mimeType": "image/png", "size": 100}
        upload = await session.client.post(
            "/ui/uploads", json=asked, headers={"X-CSRF-Token": session.csrf}
        )
        assert upload.status_code == 200, upload.text
        policy = policy_of(upload)
    finally:
        await stack.close()

    images = ["'self'", "https://renditions.example:8443", "https://cdn.example", "blob:"]
    assert policy == FIXED | {
        "img-src": images,
        "media-src": ["'self'", "https://cdn.example", "blob:"],  # the video player's originals
        "connect-src": ["'self'", s3.endpoint] if s3 else ["'self'"],
    }
    # Where upload.js PUTs the bytes: this server, or the bucket the policy names.
    put_to = origin_of(upload.json()["uploadUrl"])
    assert put_to == (s3.endpoint if s3 else origin_of(stack.url))


async def test_on_aws_uploads_go_to_the_regions_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # obstore signs path-style URLs at the region's endpoint, not at the bucket's own host that
    # the assets are shown from. Nothing is asked of AWS: the policy is known before any upload.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    stack = await start_web_stack(tmp_path / "home", storage_url="s3://newsroom-media/assets")
    try:
        policy = policy_of(await stack.client().get("/ui/sign-in"))
    finally:
        await stack.close()
    assert policy["connect-src"] == ["'self'", "https://s3.eu-west-1.amazonaws.com"]
    assert "https://newsroom-media.s3.amazonaws.com" in policy["img-src"]


@pytest.mark.parametrize(
    "url",
    ["https://cdn.example;script-src *", "https://cdn example/media", "javascript:alert(1)"],
)
async def test_a_url_no_policy_can_name_stops_the_start(tmp_path: Path, url: str) -> None:
    settings = Settings(home=tmp_path, rendition_url=url)
    with pytest.raises(ConfigError, match="MEDIALIB_RENDITION_URL"):
        create_app(settings)
