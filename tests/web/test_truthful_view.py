"""The web view tells the truth, in a real Chromium: failures show red in progress bars, titles
are whole (or in a tooltip), editors read labels and not property types, the events page is
compact and filters the failed deliveries, an upload appears in the grid without a reload, a
phone never scrolls sideways, an unknown page is an HTML page, and a video plays with its poster.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from tests.support import media, videos
from tests.support.origin import Origin
from tests.support.stack import Stack
from tests.web.conftest import Browser, start_web_stack
from tests.web.test_web_view import _drop, _entries, _keeps_to_the_policy

V = "2026-05"
RED, GREEN = "rgb(165, 14, 14)", "rgb(30, 107, 52)"  # --bad and --good of medialib.css

# Each part of a progress bar: its colour and how wide it is drawn, in pixels.
BAR_PARTS = """
const bar = document.querySelector(arguments[0]);
const part = (name) => {
  const rect = bar.querySelector(".bar-" + name);
  return {fill: getComputedStyle(rect).fill, width: rect.getBoundingClientRect().width};
};
return {success: part("success"), skipped: part("skipped"), failed: part("failed")};
"""
SIDEWAYS = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def _finished_job(api: httpx.AsyncClient, body: dict[str, Any]) -> str:
    job_id: str = (await api.post(f"/api/{V}/import/{_kind(body)}", json=body)).json()["id"]
    async with asyncio.timeout(60):
        while True:
            status = await api.get(f"/api/{V}/import/{_kind(body)}/status", params={"id": job_id})
            if status.json()["finished"]:
                return job_id
            await asyncio.sleep(0.05)


def _kind(body: dict[str, Any]) -> str:
    return "videos" if "videos" in body else "images"


def _items(urls: list[str], prefix: str) -> list[dict[str, Any]]:
    return [
        {"url": url, "id": f"{prefix}-{i}", "fileName": f"{i}.jpg", "metadata": {}}
        for i, url in enumerate(urls)
    ]


async def test_failed_items_show_red_in_the_progress_bars(
    web: Stack, browser: Browser, origin: Origin
) -> None:
    """Three succeeded and one failed: a quarter of the bar is red, on the list and the job."""
    urls = [origin.file(f"red-{i}.jpg", media.jpeg(30 + i), "image/jpeg") for i in range(3)]
    urls.append(origin.url("red-missing.jpg"))  # 404
    api = await web.api()
    job_id = await _finished_job(api, {"systemName": "red", "images": _items(urls, "red")})

    await browser.sign_in(await web.token())
    await browser.open("/ui/jobs")
    await browser.until_text("#job-rows tr", job_id)
    row_bar = f"#job-rows tr:has(a[href='/ui/jobs/{job_id}']) svg.bar"
    await browser.shot("jobs-failure-red")
    _a_quarter_red(await browser.script(BAR_PARTS, row_bar))
    await browser.open(f"/ui/jobs/{job_id}")
    _a_quarter_red(await browser.script(BAR_PARTS, "#job-head svg.bar"))
    await _keeps_to_the_policy(browser, "job")


def _a_quarter_red(parts: dict[str, dict[str, Any]]) -> None:
    assert parts["failed"]["fill"] == RED, parts
    assert parts["success"]["fill"] == GREEN, parts
    assert parts["failed"]["width"] > 0, parts
    assert abs(parts["success"]["width"] - 3 * parts["failed"]["width"]) < 2, parts
    assert parts["skipped"]["width"] == 0, parts


async def test_titles_are_whole_or_in_a_tooltip(web: Stack, browser: Browser) -> None:
    alike = [
        "Council votes on the new harbour bridge, 2024",
        "Council votes on the new harbour bridge, 2019",
    ]
    endless = "Harbour " + "very " * 60 + "long"
    api = await web.api()
    await _entries(web, api, [*alike, endless])

    await browser.sign_in(await web.token())
    await browser.open("/ui/library?q=harbour")
    captions = await browser.script(
        "return [...document.querySelectorAll('.card .caption')].map(c => ({"
        "  title: c.title, shown: c.innerText,"
        "  clipped: c.scrollHeight > c.clientHeight + 1 || c.scrollWidth > c.clientWidth + 1}))"
    )
    await browser.shot("library-titles")
    by_title = {c["title"]: c for c in captions}
    for title in alike:  # search results that differ only at the end read differently
        assert not by_title[title]["clipped"], by_title[title]
        assert " ".join(by_title[title]["shown"].split()) == title
    assert by_title[endless]["clipped"]  # too long to show whole: the tooltip has it all


async def test_editors_read_labels_not_property_types(web: Stack, browser: Browser) -> None:
    api = await web.api()
    [entry_id] = await _entries(web, api, ["Labelled"])
    await browser.sign_in(await web.token())
    await browser.open(f"/ui/entries/{entry_id}")
    labels = await browser.texts("form.stack label")
    assert labels, "the metadata form has fields"
    assert not [label for label in labels if "li-" in label]
    assert "li-" not in (await browser.texts("main"))[0]


async def test_the_events_page_is_compact_and_filters_failed_deliveries(
    browser: Browser, origin: Origin, tmp_path: Path
) -> None:
    # One quick retry, so that a delivery to a failing receiver gives up within the test.
    stack = await start_web_stack(tmp_path / "home", webhook_retry_delays=[0.05])
    page = Browser(browser.driver, stack.url)
    try:
        api = await stack.api()
        picture = origin.file("evented.jpg", media.jpeg(), "image/jpeg")
        failing = origin.status("failing-hook", 500)
        good = origin.file("good-hook", b"")
        jobs = {}
        for name, hook in (("bad", failing), ("good", good), ("good2", good)):
            body = {"systemName": name, "images": _items([picture], name), "webhook": hook}
            jobs[name] = await _finished_job(api, body)

        await page.sign_in(await stack.token())
        await page.until(
            lambda d: (
                (d.get(stack.url + "/ui/events?state=failed") or True)
                and jobs["bad"] in d.find_element("tag name", "main").text
            ),
            "the failed delivery",
        )
        rows = await page.texts("tr.delivery-row")
        assert len(rows) == 1, rows
        assert "failed" in rows[0].lower()
        assert "HTTP 500" in rows[0]
        assert await page.script("return document.getElementById('state').value") == "failed"
        await page.open("/ui/events?state=failing")  # given up is failing too
        failing_rows = await page.texts("tr.delivery-row")
        assert len(failing_rows) == 1, failing_rows
        assert jobs["bad"] in failing_rows[0]

        await page.open("/ui/events")
        await page.until(
            lambda d: len(d.find_elements("css selector", "tr.delivery-row")) == 3, "3 rows"
        )
        heights = await page.script(
            "return [...document.querySelectorAll('tr.delivery-row')]"
            ".map(r => r.getBoundingClientRect().height)"
        )
        assert max(heights) < 80, heights  # a dozen a screen, not four
        await _keeps_to_the_policy(page, "events")
        await page.shot("events-compact")
        # The form's "every delivery" sends an empty state: every delivery, not an error.
        await page.open("/ui/events?state=")
        assert len(await page.texts("tr.delivery-row")) == 3
        await page.open("/ui/events?state=delivered")
        assert len(await page.texts("tr.delivery-row")) == 2
    finally:
        await page.open("/ui/sign-in")
        await stack.close()


async def test_an_upload_appears_in_the_grid_without_a_reload(
    web: Stack, browser: Browser, tmp_path: Path
) -> None:
    picture = tmp_path / "fresh-upload.png"
    picture.write_bytes(media.png(70, 50))
    await browser.sign_in(await web.token())
    await browser.open("/ui/library")
    await browser.script("window.notReloaded = true")
    await _drop(browser, [picture])
    await browser.until(
        lambda d: d.find_elements("css selector", "#uploads li.uploaded a"), "the upload done"
    )
    link = await browser.script("return document.querySelector('#uploads a').getAttribute('href')")
    await browser.until(
        lambda d: d.find_elements("css selector", f"#grid a[href='{link}']"),
        "the new entry in the grid",
    )
    assert await browser.script("return window.notReloaded === true")  # the same page
    assert (await browser.texts(f"#grid li:has(a[href='{link}']) .caption")) == ["fresh-upload.png"]
    await _keeps_to_the_policy(browser, "library after an upload")


async def test_a_phone_never_scrolls_sideways(web: Stack, browser: Browser, origin: Origin) -> None:
    api = await web.api()
    [entry_id] = await _entries(web, api, ["A_title_without_any_space_" * 6])
    lost = origin.url("a-very-long-path/" + "segment-" * 30 + "lost.jpg")
    body = {"systemName": "phone-" + "x" * 60, "images": _items([lost], "p" * 80)}
    body["webhook"] = origin.status("hook/" + "long-" * 30, 500)
    job_id = await _finished_job(api, body)

    await browser.sign_in(await web.token())
    await asyncio.to_thread(browser.driver.set_window_size, 390, 844)
    pages = ["/ui/library", f"/ui/entries/{entry_id}", "/ui/jobs", f"/ui/jobs/{job_id}"]
    for page in (*pages, "/ui/events", "/ui/operations", "/ui/no-such-page"):
        await browser.open(page)
        width = await browser.script("return document.documentElement.clientWidth")
        assert width <= 390, width  # the window is a phone's
        assert await browser.script(SIDEWAYS) <= 0, page
    await browser.open("/ui/library")
    await browser.shot("library-on-a-phone")


async def test_an_unknown_page_is_an_html_page(web: Stack, browser: Browser) -> None:
    for path in ("/ui/no-such-page", "/ui/entries/x/y/z"):
        await browser.open(path)  # signed out too: no JSON for a person
        assert await browser.texts("h1") == ["Error 404"], path
        assert "detail" not in (await browser.texts("body"))[0]
    await browser.sign_in(await web.token())
    await browser.open("/ui/library/nothing")
    assert await browser.texts("h1") == ["Error 404"]
    assert await browser.texts("nav a.brand") == ["medialib"]


async def test_a_video_entry_plays_with_its_poster(
    web: Stack, browser: Browser, origin: Origin
) -> None:
    clip = origin.file("played.mp4", videos.video("mp4", seconds=1.0), "video/mp4")
    api = await web.api()
    item = {"url": clip, "id": "played", "fileName": "played.mp4", "metadata": {"title": "Play"}}
    job_id = await _finished_job(api, {"systemName": "player", "videos": [item]})
    status = (await api.get(f"/api/{V}/import/videos/status", params={"id": job_id})).json()
    [done] = status["videos"]
    entry_id = done["video"]["mediaId"]

    await browser.sign_in(await web.token())
    await browser.open(f"/ui/entries/{entry_id}")
    # The player has read the video's head (the policy lets it load) and shows the poster.
    await browser.until(
        lambda d: d.execute_script("return document.querySelector('video').readyState >= 1"),
        "the video's metadata loaded",
    )
    player = await browser.script(
        "const v = document.querySelector('video');"
        "return {poster: v.getAttribute('poster'), controls: v.controls, duration: v.duration}"
    )
    assert player["controls"]
    assert abs(player["duration"] - 1.0) < 0.2
    assert player["poster"]
    poster = await browser.script(
        "const i = new Image(); i.src = arguments[0];return i.decode().then(() => i.naturalWidth)",
        player["poster"],
    )
    assert poster > 0
    await _keeps_to_the_policy(browser, "a video's page")
    await browser.shot("video-entry")


async def test_a_video_uploaded_in_the_browser_gets_a_poster_made_on_the_server(
    web: Stack, browser: Browser, tmp_path: Path
) -> None:
    clip = tmp_path / "dropped-clip.webm"
    clip.write_bytes(videos.video("webm", seconds=1.0))
    await browser.sign_in(await web.token())
    await browser.open("/ui/library")
    await _drop(browser, [clip])
    await browser.until(
        lambda d: d.find_elements("css selector", "#uploads li.uploaded a"), "the upload done"
    )
    link = await browser.script("return document.querySelector('#uploads a').getAttribute('href')")
    api = await web.api()
    entry = (await api.get(f"/api/{V}/mediaLibrary/{link.rsplit('/', 1)[1]}")).json()
    poster = entry["asset"]["poster"]
    assert (poster["width"], poster["height"]) == (64, 48)  # the video's own frame size
    frame = await web.client().get(poster["url"])
    assert frame.status_code == 200
    assert frame.content.startswith(b"\xff\xd8")  # a JPEG
    # The grid shows the poster for the new video, as it does for one imported by URL.
    card_image = f"#grid li:has(a[href='{link}']) img"
    await browser.until(
        lambda d: d.execute_script(
            "const i = document.querySelector(arguments[0]); return i && i.naturalWidth > 0",
            card_image,
        ),
        "the poster in the grid",
    )
    await _keeps_to_the_policy(browser, "library after a video upload")
