"""The web view's operations page: the last hour of the signed-in project's imports, the task
queue and the failing webhook deliveries, counted from the database (no Prometheus needed).

Over HTTP on both backends: the page's numbers equal a known job's, the other projects' jobs
are never counted, and no query string changes what it shows. In Chromium: it renders within
the policy, the chart has a bar a minute, and the busy minute's bar is drawn.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from medialib.imports.activity import import_activity
from tests.support import media
from tests.support.imports import Importer, item
from tests.support.origin import Origin
from tests.support.stack import Stack
from tests.support.web import sign_in
from tests.web.conftest import Browser
from tests.web.test_truthful_view import _finished_job, _items
from tests.web.test_web_view import _keeps_to_the_policy

_COUNT = re.compile(r'data-count="([a-z0-9_-]+)">([0-9.,]+)<')


def counts(page: str) -> dict[str, str]:
    """Every number the page shows (without its thousands' commas), by the name its cell
    carries."""
    return {name: shown.replace(",", "") for name, shown in _COUNT.findall(page)}


def _unique(name: str) -> str:
    return f"ops-{uuid.uuid4().hex[:8]}/{name}"


async def _known_job(importer: Importer, origin: Origin) -> Any:
    """Three images, one gone (404), one that is no image; the webhook's first attempt fails."""
    urls = [origin.file(_unique(f"{i}.jpg"), media.jpeg(40 + i), "image/jpeg") for i in range(3)]
    urls.append(origin.url(_unique("gone.jpg")))
    urls.append(origin.file(_unique("noise.jpg"), b"not an image at all", "image/jpeg"))
    importer.receiver.failures = [500]
    status, _ = await importer.run([item(u, f"ops-{i}") for i, u in enumerate(urls)])
    assert status["webhook"]["state"] == "delivered", status
    return status


async def _page(stack: Stack, project: str, path: str = "/ui/operations") -> httpx.Response:
    session = await sign_in(stack, await stack.token(project))
    page = await session.client.get(path)
    assert page.status_code == 200, page.text
    return page


async def test_the_page_counts_a_known_job(
    stack: Stack, project: str, importer: Importer, origin: Origin
) -> None:
    status = await _known_job(importer, origin)
    items = status["images"]
    states = Counter(i["state"] for i in items)
    reasons = Counter(i["reasonCode"] for i in items if i["state"] == "failed")
    assert (states["success"], states["failed"]) == (3, 2), items  # the job is what it says

    shown = counts((await _page(stack, project)).text)

    assert shown["items-finished"] == "5"
    for state in ("success", "skipped", "failed"):
        assert shown[f"items-{state}"] == str(states[state]), (state, shown)
    assert {k: v for k, v in shown.items() if k.startswith("reason-")} == {
        f"reason-{code}": str(count) for code, count in reasons.items()
    }
    jobs = [shown[f"jobs-{state}"] for state in ("success", "started", "failed", "cancelled")]
    assert jobs == ["1", "0", "0", "0"], shown
    # The webhook's first attempt failed; the second got through.
    assert shown["webhook-attempts-failed"] == "1", shown
    assert (shown["webhook-delivered"], shown["webhook-failed"], shown["webhook-pending"]) == (
        "1",
        "0",
        "0",
    )
    assert {"tasks-todo", "tasks-doing"} <= shown.keys()


async def test_a_webhook_that_gives_up_shows_failing(
    stack: Stack, project: str, importer: Importer, origin: Origin
) -> None:
    """Every attempt refused (the shared stack tries 8 times): the delivery gave up."""
    importer.receiver.failures = [503] * 8
    url = origin.file(_unique("one.jpg"), media.jpeg(50), "image/jpeg")
    job_id = await importer.start([item(url, "ops-one")])
    status = await importer.settled(job_id)
    assert status["webhook"]["state"] == "failed", status

    shown = counts((await _page(stack, project)).text)

    assert (shown["webhook-failed"], shown["webhook-delivered"]) == ("1", "0"), shown
    assert shown["webhook-attempts-failed"] == str(status["webhook"]["attempts"]), shown


async def test_another_projects_jobs_are_never_counted(
    stack: Stack, project: str, importer: Importer, origin: Origin
) -> None:
    """Seven items gone in project "other", then the known job in `project`: each page counts
    its own project's items only."""
    gone = [item(origin.url(_unique(f"gone-{i}.jpg")), f"theirs-{i}") for i in range(7)]
    theirs = await stack.api("other")
    body = {"systemName": "theirs", "images": gone}
    await _finished_job(theirs, body)
    their_page = counts((await _page(stack, "other")).text)
    assert int(their_page["reason-http_404"]) >= 7, their_page

    await _known_job(importer, origin)
    ours = counts((await _page(stack, project)).text)
    theirs_after = counts((await _page(stack, "other")).text)

    assert (ours["items-finished"], ours["reason-http_404"]) == ("5", "1"), ours
    # Nothing of ours added to theirs (their items can only age out of the hour meanwhile).
    assert int(theirs_after["items-finished"]) <= int(their_page["items-finished"])


async def test_no_query_string_changes_the_page(
    stack: Stack, project: str, importer: Importer, origin: Origin
) -> None:
    """The page takes no parameter: hostile ones are ignored, never a 500, never another
    project's or another window's numbers."""
    await _known_job(importer, origin)
    plain = counts((await _page(stack, project)).text)
    for query in (
        "?project=demo",
        "?since=1970-01-01&minutes=100000000",
        "?minutes=-1&until=x",
        "?project=%00&cursor=%ff%fe",
        "?" + "a=1&" * 2000,
    ):
        page = await _page(stack, project, "/ui/operations" + query)
        shown = counts(page.text)
        assert shown["items-finished"] == plain["items-finished"], query
        assert shown["reason-http_404"] == "1", query


async def test_an_hour_later_the_job_is_out_of_the_window(
    stack: Stack, project: str, importer: Importer, origin: Origin
) -> None:
    """The window is the last hour: the same job, read as of 61 minutes on, counts nothing."""
    await _known_job(importer, origin)
    now = dt.datetime.now(dt.UTC)
    async with stack.runtime.db.read() as conn:
        current = await import_activity(conn, project, now)
        later = await import_activity(conn, project, now + dt.timedelta(minutes=61))

    assert (current.finished, current.jobs["success"]) == (5, 1)
    assert current.by_state == {"success": 3, "skipped": 0, "failed": 2}
    assert (later.finished, later.jobs["success"], later.by_reason) == (0, 0, {})


async def test_a_quiet_project_shows_zeros_and_an_empty_chart(stack: Stack, project: str) -> None:
    page = (await _page(stack, project)).text

    shown = counts(page)
    assert shown["items-finished"] == "0"
    assert {shown[f"items-{s}"] for s in ("success", "skipped", "failed")} == {"0"}
    assert not [name for name in shown if name.startswith("reason-")]
    assert "No failures." in page
    assert page.count('class="rate-bar"') == 60
    assert page.count('height="0"') == 60  # every bar, none drawn


async def test_other_methods_get_the_web_views_error_page(stack: Stack, project: str) -> None:
    session = await sign_in(stack, await stack.token(project))
    for method in ("POST", "PUT", "DELETE"):
        answer = await session.client.request(method, "/ui/operations", data={"csrf": "x"})
        assert answer.status_code == 405, (method, answer.text)
        assert answer.headers["content-type"].startswith("text/html"), method


async def test_the_page_needs_a_session(stack: Stack) -> None:
    anonymous = stack.client()
    page = await anonymous.get("/ui/operations")
    assert page.status_code in (302, 303), page.text
    assert "/ui/sign-in" in page.headers["location"]


async def test_an_htmx_refresh_is_the_section_alone(
    stack: Stack, project: str, importer: Importer, origin: Origin
) -> None:
    await _known_job(importer, origin)
    session = await sign_in(stack, await stack.token(project))
    fragment = await session.client.get("/ui/operations", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="ops"'), fragment.text[:200]
    assert counts(fragment.text)["items-finished"] == "5"


# --- In Chromium ------------------------------------------------------------------------------

CHART = """
return [...document.querySelectorAll("svg.rate rect.rate-bar")].map((bar) => ({
  count: Number(bar.dataset.count), height: bar.getBoundingClientRect().height,
  fill: getComputedStyle(bar).fill}));
"""


async def test_the_page_draws_a_bar_a_minute(web: Stack, browser: Browser, origin: Origin) -> None:
    api = await web.api()
    urls = [origin.file(f"ops-{i}.jpg", media.jpeg(60 + i), "image/jpeg") for i in range(4)]
    urls.append(origin.url("ops-gone.jpg"))
    await _finished_job(api, {"systemName": "ops", "images": _items(urls, "ops")})

    await browser.sign_in(await web.token())
    await browser.open("/ui/operations")
    await browser.until_text("#ops", "Imports per second")
    assert "Operations" in await browser.texts("nav a[aria-current=page]")
    bars = await browser.script(CHART)
    await browser.shot("operations")

    assert len(bars) == 60, bars
    drawn = [b for b in bars if b["count"] > 0]
    assert sum(b["count"] for b in drawn) >= 5, bars
    assert all(b["height"] > 0 for b in drawn), drawn
    assert all(b["height"] == 0 for b in bars if b["count"] == 0), bars
    assert max(b["height"] for b in drawn) > 50, drawn  # the busiest fills the chart's 6rem
    assert drawn[0]["fill"] != "none", drawn
    await _keeps_to_the_policy(browser, "operations")


async def test_the_page_refreshes_itself(web: Stack, browser: Browser, origin: Origin) -> None:
    """A job finished after the page was opened shows within a refresh (every 10 s)."""
    await browser.sign_in(await web.token())
    await browser.open("/ui/operations")
    before = int((await browser.texts("[data-count=items-finished]"))[0].replace(",", ""))
    api = await web.api()
    url = origin.file("ops-later.jpg", media.jpeg(70), "image/jpeg")
    await _finished_job(api, {"systemName": "ops", "images": _items([url], "later")})
    started = time.monotonic()
    await browser.until(
        lambda d: int(d.find_element("css selector", "[data-count=items-finished]").text) > before,
        "the refreshed count",
    )
    assert time.monotonic() - started < 20
