"""Placeholders and focal points in the web view (issue 30, items 2 and 3): a thumbnail's box
shows its picture's colour and ThumbHash before the thumbnail arrives; a click on the entry
page's picture moves its focal point, stored as the editor's, over plain HTTP (as a browser
without JavaScript sends it) and in Chromium.

The entries' analysis fields are written by tests/support/analysed.py (the import does not set
them)."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from medialib.auth.tokens import READ
from medialib.library.events import SUBSCRIBABLE
from medialib.library.projects import new_webhook_secret
from tests.support.analysed import (
    PLACEHOLDER,
    PLACEHOLDER_SIZE,
    PLACEHOLDER_TOP_LEFT,
    analysed,
)
from tests.support.entries import (
    STORED_MP4,
    file_asset,
    import_entries,
    new_key,
    stored_image,
    unique,
    video_asset,
)
from tests.support.stack import DEMO_MEDIA_TYPES, Stack
from tests.support.web import WebSession, sign_in
from tests.support.webhooks import Receiver
from tests.web.conftest import Browser
from tests.web.test_web_view import _keeps_to_the_policy

V = "2026-05"
FACES = {"x": 0.5, "y": 0.5, "source": "faces"}


async def _entry(api: httpx.AsyncClient, entry_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/{V}/mediaLibrary/{entry_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _click(
    x: float, y: float, box: tuple[float, float] = (640, 480), version: int = 1
) -> dict[str, str]:
    """The form a click sends: where in the picture's box, the box's size, the entry's version."""
    return {
        "focus.x": str(x),
        "focus.y": str(y),
        "shownWidth": str(box[0]),
        "shownHeight": str(box[1]),
        "version": str(version),
    }


async def _video(stack: Stack, api: httpx.AsyncClient, poster: bool = True) -> dict[str, Any]:
    key, poster_key = new_key("mp4"), new_key("jpeg")
    await stack.put_asset(key, STORED_MP4)
    await stack.put_asset(poster_key)
    entry = {
        "systemName": "archive",
        "externalId": unique("clip"),
        "mediaType": "video",
        "asset": video_asset(key, poster_key if poster else None),
        "metadata": {"title": "A clip"},
    }
    [result] = await import_entries(api, [entry])
    assert result["ok"], result
    record: dict[str, Any] = result["record"]
    return record


# --- Over HTTP, as a browser without JavaScript ----------------------------------------------


async def test_a_click_on_the_picture_stores_the_editors_focal_point(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    entry = await stored_image(stack, api)  # 640 x 480
    page = f"/ui/entries/{entry['id']}"
    web = await sign_in(stack, await stack.token(project))
    shown = (await web.client.get(page)).text
    assert f'action="{page}/focus"' in shown
    assert re.search(r'<input type="image" name="focus" [^>]*width="640" height="480"', shown)
    assert '<input type="hidden" name="shownWidth" value="640">' in shown
    assert "focus-marker" not in shown  # no focal point yet

    moved = await web.post_form(f"{page}/focus", _click(160, 360))
    assert moved.status_code == 303, moved.text[:500]
    assert moved.headers["location"] == f"{page}?focused=1"
    stored = await _entry(api, entry["id"])
    assert stored["asset"]["focalPoint"] == {"x": 0.25, "y": 0.75, "source": "editor"}
    assert stored["version"] == 2
    shown = html.unescape((await web.client.get(f"{page}?focused=1")).text)
    assert "Focal point moved." in shown
    assert 'cx="160.0" cy="360.0"' in shown  # the ring, in the picture's own pixels
    assert "placed by an editor" in shown

    # A narrow window shows the picture at half its size: medialib.js sends that size.
    again = await web.post_form(f"{page}/focus", _click(240, 60, box=(320, 240), version=2))
    assert again.status_code == 303, again.text[:500]
    assert (await _entry(api, entry["id"]))["asset"]["focalPoint"] == {
        "x": 0.75,
        "y": 0.25,
        "source": "editor",
    }
    # A box of another shape than the picture: it is shown whole, centred (bands above and
    # below a landscape picture in a square box), and the click is read in the picture.
    square = await web.post_form(f"{page}/focus", _click(320, 80, box=(640, 640), version=3))
    assert square.status_code == 303, square.text[:500]
    point = (await _entry(api, entry["id"]))["asset"]["focalPoint"]
    assert (point["x"], point["y"]) == (0.5, 0.0)
    band = await web.post_form(f"{page}/focus", _click(320, 600, box=(640, 640), version=4))
    assert band.status_code == 400
    assert "focalPoint.y" in band.text


async def test_a_videos_poster_gets_the_focal_point(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    video = await _video(stack, api)
    page = f"/ui/entries/{video['id']}"
    web = await sign_in(stack, await stack.token(project))
    shown = (await web.client.get(page)).text
    assert "<video " in shown
    assert f'action="{page}/focus"' in shown
    assert "The poster frame's focal point" in shown

    moved = await web.post_form(f"{page}/focus", _click(64, 48))
    assert moved.status_code == 303, moved.text[:500]
    asset = (await _entry(api, video["id"]))["asset"]
    assert asset["poster"]["focalPoint"] == {"x": 0.1, "y": 0.1, "source": "editor"}
    assert "focalPoint" not in asset


async def test_an_editor_moves_the_focal_point_of_an_archived_or_revoked_entry(
    stack: Stack, project: str
) -> None:
    """As a metadata edit: the library takes it (the page shows no picture of a revoked entry,
    whose URLs answer 403, but the form's post is not refused for that)."""
    api = await stack.api(project)
    web = await sign_in(stack, await stack.token(project))
    for action in ("archive", "revoke"):
        entry = await stored_image(stack, api)
        page = f"/ui/entries/{entry['id']}"
        assert (await web.post_form(f"{page}/{action}", {})).status_code == 303
        moved = await web.post_form(f"{page}/focus", _click(320, 240, version=2))
        assert moved.status_code == 303, (action, moved.text[:500])
        stored = await _entry(api, entry["id"])
        assert stored["asset"]["focalPoint"]["source"] == "editor", action
    shown = (await web.client.get(page)).text
    assert 'name="focus"' not in shown  # the revoked one: no picture to click


async def test_hostile_focal_point_posts_are_refused_and_change_nothing(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    entry = await stored_image(stack, api)
    page = f"/ui/entries/{entry['id']}"
    web = await sign_in(stack, await stack.token(project))
    other = await stored_image(stack, await stack.api("other"))
    file_key = new_key("pdf")
    await stack.put_asset(file_key)
    file_entry = {
        "systemName": "archive",
        "externalId": unique("doc"),
        "mediaType": "file",
        "asset": file_asset(file_key),
        "metadata": {"title": "A document"},
    }
    [made] = await import_entries(api, [file_entry])
    posterless = await _video(stack, api, poster=False)
    before = await stack.snapshot(project)

    refused: list[tuple[str, dict[str, str], int]] = []
    bad_values = {
        "no click": {k: v for k, v in _click(1, 1).items() if not k.startswith("focus.")},
        "no x": {k: v for k, v in _click(1, 1).items() if k != "focus.x"},
        "NaN": _click(float("nan"), 1),
        "infinity": _click(1, float("inf")),
        "beyond a float": _click(1, 1) | {"focus.x": "1e309"},
        "huge click": _click(10**12, 1),
        "left of the picture": _click(-1, 1),
        "right of the picture": _click(641, 1),
        "below the picture": _click(1, 481),
        "words": _click(1, 1) | {"focus.y": "middle"},
        "a very long number": _click(1, 1) | {"focus.x": "0." + "1" * 5000},
        "a box of nothing": _click(1, 1, box=(0, 480)),
        "a negative box": _click(1, 1, box=(-640, 480)),
        "a huge box": _click(1, 1, box=(1e300, 480)),
        "a NaN box": _click(1, 1) | {"shownHeight": "nan"},
        "no version": {k: v for k, v in _click(1, 1).items() if k != "version"},
        "a version of words": _click(1, 1) | {"version": "one"},
        "a negative version": _click(1, 1) | {"version": "-1"},
    }
    for name, fields in bad_values.items():
        response = await web.post_form(f"{page}/focus", fields)
        refused.append((name, fields, response.status_code))
        assert response.status_code == 400, (name, response.text[:300])
        assert "<h1>Error 400</h1>" in response.text, name

    stale = await web.post_form(f"{page}/focus", _click(1, 1, version=7))
    assert stale.status_code == 409, stale.text[:300]

    # Entries that are not this project's, or not there, or that have no picture.
    for target, status in (
        (other["id"], 404),
        ("nosuchentry", 404),
        ("not%20an%20id", 404),
        ("x" * 40, 404),
        (made["record"]["id"], 400),
        (posterless["id"], 400),
    ):
        response = await web.post_form(f"/ui/entries/{target}/focus", _click(1, 1))
        assert response.status_code == status, (target, response.text[:300])
    assert "focalPoint" not in (await _entry(await stack.api("other"), other["id"]))["asset"]

    # Forged or missing CSRF tokens, a page of another site, a read-only token.
    for csrf in ("", "0" * 64, web.csrf[:-1] + ("1" if web.csrf[-1] != "1" else "2")):
        response = await web.client.post(f"{page}/focus", data={"csrf": csrf} | _click(1, 1))
        assert response.status_code == 403, csrf
    elsewhere = await web.client.post(
        f"{page}/focus",
        data={"csrf": web.csrf} | _click(1, 1),
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert elsewhere.status_code == 403
    reader = await sign_in(stack, await stack.token(project, scopes=(READ,)))
    assert (await reader.post_form(f"{page}/focus", _click(1, 1))).status_code == 403

    assert await stack.snapshot(project) == before
    assert len(refused) == 18


async def test_placeholders_are_in_the_pages_and_values_not_the_analysiss_are_not(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    painted = await stored_image(stack, api, metadata={"title": "Painted harbour"})
    await analysed(
        stack, project, painted["id"], placeholder=PLACEHOLDER, color="#c86432", focalPoint=FACES
    )
    await stored_image(stack, api, metadata={"title": "Plain harbour"})
    hostile = await stored_image(stack, api, metadata={"title": "Hostile harbour"})
    await analysed(
        stack,
        project,
        hostile["id"],
        placeholder='"><script>alert(1)</script>',
        color="red; background: url(x)",
        focalPoint={"x": "0.5", "y": float("inf"), "source": "faces"},
    )
    web = await sign_in(stack, await stack.token(project))
    library = (await web.client.get("/ui/library?q=harbour")).text
    cards = library.split('<li class="card')[1:]
    [painted_card] = [c for c in cards if "Painted harbour" in c]
    [plain_card] = [c for c in cards if "Plain harbour" in c]
    [hostile_card] = [c for c in cards if "Hostile harbour" in c]
    assert '<rect width="1" height="1" fill="#c86432"/>' in painted_card
    assert f'data-thumbhash="{PLACEHOLDER}"' in painted_card
    for card in (plain_card, hostile_card):
        assert 'class="paint"' not in card
        assert "painted" not in card
    assert "<script>alert" not in library

    entry_page = (await web.client.get(f"/ui/entries/{painted['id']}")).text
    assert 'fill="#c86432"' in entry_page
    assert f'data-thumbhash="{PLACEHOLDER}"' in entry_page
    assert 'data-source="faces"' in entry_page
    assert "found from faces" in entry_page
    # A reader sees the point and no form to move it with.
    reader = await sign_in(stack, await stack.token(project, scopes=(READ,)))
    read = (await reader.client.get(f"/ui/entries/{painted['id']}")).text
    assert 'data-source="faces"' in read
    assert 'name="focus"' not in read
    assert "Click the picture" not in read
    hostile_page = (await web.client.get(f"/ui/entries/{hostile['id']}")).text
    assert "focus-marker" not in hostile_page
    assert 'class="paint"' not in hostile_page


@pytest.fixture
async def newsroom(make_stack: Any) -> Any:
    secret = new_webhook_secret()
    receiver = await Receiver(secret=secret).start()
    project = {
        "handle": "newsroom",
        "mediaTypes": DEMO_MEDIA_TYPES,
        "webhookSecret": secret,
        "webhooks": [{"url": receiver.url("events"), "events": list(SUBSCRIBABLE)}],
    }
    stack = await make_stack(config={"projects": [project]})
    yield stack, receiver
    await receiver.stop()


async def test_webhooks_hear_an_update_by_the_editor(newsroom: Any) -> None:
    stack, receiver = newsroom
    api = await stack.api("newsroom")
    entry = await stored_image(stack, api)
    assert (await receiver.next()).body["event"] == "mediaLibraryEntry.create"
    web: WebSession = await sign_in(stack, await stack.token("newsroom"))
    moved = await web.post_form(f"/ui/entries/{entry['id']}/focus", _click(10, 10))
    assert moved.status_code == 303, moved.text[:500]
    update = (await receiver.next()).body
    assert update["event"] == "mediaLibraryEntry.update"
    assert update["mediaId"] == entry["id"]
    assert update["actor"]["type"] == "user"
    # The same point again changes nothing: no version, no event.
    again = await web.post_form(f"/ui/entries/{entry['id']}/focus", _click(10, 10, version=2))
    assert again.status_code == 303
    assert (await _entry(api, entry["id"]))["version"] == 2


async def _click_at(browser: Browser, element: Any, offset: tuple[int, int]) -> None:
    """A mouse click at `offset` from the element's centre."""
    chain = ActionChains(browser.driver).move_to_element_with_offset(element, *offset).click()
    await browser._run(chain.perform)


# --- In Chromium ------------------------------------------------------------------------------

# What a card's box shows before its thumbnail: the colour's rectangle over the whole box, and
# the canvas the ThumbHash was decoded into (its size and top left pixel).
PAINTED = """
const box = document.querySelector(arguments[0]);
const rect = box.querySelector("svg.paint rect"), canvas = box.querySelector("canvas.paint");
const picture = box.querySelector("img, input");
const size = (e) => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
return {
  fill: getComputedStyle(rect).fill,
  colour: size(rect), canvas: size(canvas), picture: size(picture),
  decoded: [canvas.width, canvas.height],
  topLeft: [...canvas.getContext("2d").getImageData(0, 0, 1, 1).data].slice(0, 3),
  loaded: picture instanceof HTMLImageElement ? picture.naturalWidth : null,
};
"""

# The ring's centre and the picture's box, in the page's pixels.
MARKER = """
const ring = document.querySelector(".focus-marker .ring-in").getBoundingClientRect();
const box = document.querySelector("input[name=focus]").getBoundingClientRect();
return {x: ring.x + ring.width / 2, y: ring.y + ring.height / 2,
        left: box.x, top: box.y, width: box.width, height: box.height};
"""


async def test_placeholders_are_painted_before_the_thumbnails_arrive(
    web: Stack, browser: Browser
) -> None:
    api = await web.api()
    entry = await stored_image(web, api, metadata={"title": "Slow harbour"})
    await analysed(web, "demo", entry["id"], placeholder=PLACEHOLDER, color="#c86432")
    await browser.sign_in(await web.token())
    # The thumbnails never arrive: the browser is told to refuse the renditions' URLs.
    driver = browser.driver
    await browser._run(lambda: driver.execute_cdp_cmd("Network.enable", {}))
    blocked = {"urls": [f"*/media/{entry['asset']['key']}*"]}
    await browser._run(lambda: driver.execute_cdp_cmd("Network.setBlockedURLs", blocked))
    try:
        for page, box in (
            ("/ui/library?q=Slow", "li.card .frame"),
            (f"/ui/entries/{entry['id']}", ".entry .frame"),
        ):
            await browser.open(page)
            await browser.until(
                lambda d: d.execute_script(
                    "return document.querySelector('canvas.paint[data-painted]')"
                ),
                "the placeholder decoded",
            )
            found = await browser.script(PAINTED, box)
            assert found["fill"] == "rgb(200, 100, 50)", page
            assert found["colour"] == found["picture"] == found["canvas"], found
            assert found["picture"][0] > 100, found  # the box has its size before the picture
            assert found["decoded"] == list(PLACEHOLDER_SIZE), found
            assert all(
                abs(a - b) <= 2 for a, b in zip(found["topLeft"], PLACEHOLDER_TOP_LEFT, strict=True)
            ), found
            assert found["loaded"] in (0, None), found  # the thumbnail really is not there
            await _keeps_to_the_policy(browser, page)
            await browser.shot("placeholder-" + page.split("/")[2].split("?")[0])
    finally:
        await browser._run(lambda: driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []}))
        await browser._run(lambda: driver.execute_cdp_cmd("Network.disable", {}))


async def test_a_click_on_the_picture_moves_the_marker_and_stores_the_point(
    web: Stack, browser: Browser
) -> None:
    api = await web.api()
    entry = await stored_image(web, api, metadata={"title": "Focused harbour"})
    await analysed(web, "demo", entry["id"], focalPoint=FACES)
    await browser.sign_in(await web.token())
    page = f"/ui/entries/{entry['id']}"
    # Wide, the picture is shown at the size the page gives it; narrow, the browser shrinks it.
    for width, (fx, fy) in ((1280, (0.25, 0.75)), (420, (0.8, 0.2))):
        await asyncio.to_thread(browser.driver.set_window_size, width, 900)
        await browser.open(page)
        await browser.until_text("#focus-help", "Click the picture")
        before = await browser.script(MARKER)
        if width == 1280:  # the analysis's point, at the picture's centre
            assert abs(before["x"] - (before["left"] + before["width"] / 2)) < 2, before
            assert abs(before["y"] - (before["top"] + before["height"] / 2)) < 2, before
        else:
            assert before["width"] < 640, before  # shrunk: medialib.js sends the size shown
        picture = await browser.find("input[name=focus]")
        # Selenium's offsets are from the element's centre.
        offset = (round((fx - 0.5) * before["width"]), round((fy - 0.5) * before["height"]))
        await _click_at(browser, picture, offset)
        await browser.until(lambda d: d.current_url.endswith("?focused=1"), "the point moved")
        after = await browser.script(MARKER)
        assert abs(after["x"] - (after["left"] + fx * after["width"])) <= 3, (after, fx)
        assert abs(after["y"] - (after["top"] + fy * after["height"])) <= 3, (after, fy)
        point = (await _entry(api, entry["id"]))["asset"]["focalPoint"]
        assert point["source"] == "editor"
        assert abs(point["x"] - fx) < 0.01, (point, fx)
        assert abs(point["y"] - fy) < 0.01, (point, fy)
        assert await browser.texts("#focus-help") == [
            "The focal point (the ring, placed by an editor). Click the picture to move it."
        ]
        await _keeps_to_the_policy(browser, page)
        await browser.shot(f"focal-point-{width}")
    await asyncio.to_thread(browser.driver.set_window_size, 1280, 900)
