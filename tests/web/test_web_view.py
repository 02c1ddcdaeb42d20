"""The web view as a person uses it, in a real Chromium: sign in and out, a read-only token,
jobs watched live, retrying failed items, search, filters, infinite scroll, metadata edits with
their errors, revoke, unrevoke, delete, upload by drag and drop, CSRF, /docs offline.

Every page keeps to the Content-Security-Policy of /ui: nothing inline, nothing refused.

Each test saves a screenshot of the pages it saw into the artifacts folder."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from medialib.auth.tokens import READ, list_tokens, revoke_token
from tests.support import media, videos
from tests.support.entries import image_entry, import_entries, new_key, shared
from tests.support.origin import Origin
from tests.support.s3 import MotoS3
from tests.support.sessions import sign_in
from tests.support.stack import Stack
from tests.web.conftest import Browser, start_web_stack

V = "2026-05"


async def _entries(
    web: Stack, api: httpx.AsyncClient, titles: list[str], project: str = "demo", **extra: Any
) -> list[str]:
    """Image entries with these titles (their objects real JPEGs); their ids."""
    entries = []
    for title in titles:
        key = new_key()
        await web.put_asset(key)
        entries.append(image_entry(key, metadata={"title": title}, **extra))
    results = await import_entries(api, entries)
    assert all(r["ok"] for r in results), results
    return [r["record"]["id"] for r in results]


async def _session(web: Stack, token: str) -> tuple[httpx.AsyncClient, str]:
    """A signed-in HTTP client (its session cookie) and the CSRF token its pages carry."""
    client = web.client()
    return client, await sign_in(client, token)


async def _entry(api: httpx.AsyncClient, entry_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/{V}/mediaLibrary/{entry_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_sign_in_and_out(web: Stack, browser: Browser) -> None:
    await browser.open("/ui/library")
    assert (await browser.path()).startswith("/ui/sign-in?next=/ui/library")
    await browser.fill("#token", "mlt_not-a-token")
    await browser.click("form button[type=submit]")
    await browser.until_text("#token-error", "The access token is invalid.")
    await browser.shot("sign-in-refused")

    token = await web.token()
    await browser.sign_in(token)
    assert await browser.path() == "/ui/library"
    cookie = await asyncio.to_thread(browser.driver.get_cookie, "medialib_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert token not in cookie["value"]  # the session names the token, it does not carry it

    await browser.sign_out()
    assert await asyncio.to_thread(browser.driver.get_cookie, "medialib_session") is None
    await browser.open("/ui/jobs")
    assert (await browser.path()).startswith("/ui/sign-in")


async def test_a_revoked_token_ends_its_session(web: Stack, browser: Browser) -> None:
    token = await web.token()
    await browser.sign_in(token)
    [newest] = [t for t in await list_tokens(web.runtime.db, "demo")][-1:]
    await revoke_token(web.runtime.db, newest.id)
    await browser.open("/ui/library")
    assert (await browser.path()).startswith("/ui/sign-in")


async def test_a_read_only_token_sees_no_write_controls_and_cannot_write(
    web: Stack, browser: Browser
) -> None:
    api = await web.api()
    [entry_id] = await _entries(web, api, ["Read only harbour"])
    reader = await web.token(scopes=(READ,))
    await browser.sign_in(reader)
    assert await browser.all("#dropzone") == []
    await browser.open(f"/ui/entries/{entry_id}")
    await browser.until_text("h1", "Read only harbour")
    assert await browser.texts("nav .who") == ["demo · read only"]
    assert await browser.all("form[action$='/revoke']") == []
    assert await browser.all("form[action$='/delete']") == []
    assert await browser.script("return document.querySelector('fieldset').disabled") is True
    await browser.shot("entry-read-only")

    client, csrf = await _session(web, reader)
    refused = await client.post(f"/ui/entries/{entry_id}/archive", data={"csrf": csrf})
    assert refused.status_code == 403
    assert "This token may only read." in refused.text
    assert (await _entry(api, entry_id))["archived"] is False


async def test_forms_without_the_sessions_csrf_token_are_refused(web: Stack) -> None:
    api = await web.api()
    [entry_id] = await _entries(web, api, ["Guarded"])
    client, csrf = await _session(web, await web.token())
    for sent in ({}, {"csrf": "0" * 64}, {"csrf": csrf[:-1] + ("1" if csrf[-1] != "1" else "2")}):
        refused = await client.post(f"/ui/entries/{entry_id}/revoke", data=sent)
        assert refused.status_code == 403, sent
        assert "stale or from another site" in refused.text
    # Another session's token is no good either.
    _, other = await _session(web, await web.token())
    refused = await client.post(f"/ui/entries/{entry_id}/delete", data={"csrf": other})
    assert refused.status_code == 403
    entry = await _entry(api, entry_id)
    assert entry["revoked"] is False
    accepted = await client.post(f"/ui/entries/{entry_id}/archive", data={"csrf": csrf})
    assert accepted.status_code == 303
    assert (await _entry(api, entry_id))["archived"] is True


async def test_a_job_is_watched_from_start_to_finish(
    web: Stack, browser: Browser, origin: Origin
) -> None:
    gate = asyncio.Event()
    urls = [origin.gated(f"slow-{i}.jpg", media.jpeg(), gate) for i in range(3)]
    api = await web.api()
    items = [
        {"url": url, "id": f"watched-{i}", "fileName": f"{i}.jpg", "metadata": {}}
        for i, url in enumerate(urls)
    ]
    started = await api.post(f"/api/{V}/import/images", json={"systemName": "web", "images": items})
    job_id = started.json()["id"]

    await browser.sign_in(await web.token())
    await browser.open("/ui/jobs")
    await browser.until_text("#job-rows tr", job_id)
    row = f"#job-rows tr:has(a[href='/ui/jobs/{job_id}'])"
    assert "started" in (await browser.texts(row))[0].lower()
    assert "0/3" in (await browser.texts(row))[0]
    await browser.shot("jobs-running")

    gate.set()  # the origin answers; the page polls and shows the job end
    await browser.until_text(row, "SUCCESS")
    assert "3/3" in (await browser.texts(row))[0]
    await browser.shot("jobs-finished")

    await browser.click(f"{row} a")
    await browser.until_text("#job-head", "SUCCESS")
    assert await browser.texts("#done") == ["3"]
    await browser.shot("job-finished")


async def test_failed_items_are_retried(web: Stack, browser: Browser, origin: Origin) -> None:
    picture = media.jpeg()
    good = origin.file("fine.jpg", picture, "image/jpeg")
    missing = [origin.status(f"later-{i}.jpg", 404) for i in range(2)]
    api = await web.api()
    items = [
        {"url": url, "id": f"retry-{i}", "fileName": f"{i}.jpg", "metadata": {}}
        for i, url in enumerate([good, *missing])
    ]
    started = await api.post(f"/api/{V}/import/images", json={"systemName": "web", "images": items})
    job_id = started.json()["id"]
    await browser.sign_in(await web.token())
    await browser.open(f"/ui/jobs/{job_id}")
    await browser.until_text("#job-head", "finished")
    assert await browser.texts("#failed") == ["2"]
    failed_rows = await browser.texts("table tbody tr")
    assert len(failed_rows) == 2
    assert all("http_404" in row and "later-" in row for row in failed_rows)
    await browser.shot("job-with-failures")

    for i in range(2):  # the archive has them now
        origin.file(f"later-{i}.jpg", picture, "image/jpeg")
    await browser.click("form[action$='/retry'] button")
    await browser.until(lambda d: f"/ui/jobs/{job_id}" not in d.current_url, "the new job")
    await browser.until_text("#job-head", "finished")
    assert await browser.texts("#done") == ["2"]
    assert await browser.texts("#failed") == ["0"]
    found = await api.get(
        f"/api/{V}/mediaLibrary", params={"systemName": "web", "externalId": "retry-1"}
    )
    assert len(found.json()["results"]) == 1


async def test_search_and_filters(web: Stack, browser: Browser) -> None:
    api = await web.api()
    ids = await _entries(web, api, ["Lighthouse at dusk", "Lighthouse keeper", "Market day"])
    revoke = {"patches": [{"operation": "revokeAsset", "note": "rights ended"}]}
    assert (await api.patch(f"/api/{V}/mediaLibrary/{ids[1]}", json=revoke)).status_code == 200
    await browser.sign_in(await web.token())
    await browser.open("/ui/library")
    await browser.fill("#q", "lighthouse")
    await browser.click(".filters button")
    await browser.until(lambda d: "q=lighthouse" in d.current_url, "the search")
    captions = await browser.texts(".card .caption")
    assert sorted(captions) == ["Lighthouse at dusk", "Lighthouse keeper"]
    await browser.shot("library-search")

    await browser.open("/ui/library?q=lighthouse&revoked=yes")
    assert await browser.texts(".card .caption") == ["Lighthouse keeper"]
    assert await browser.script("return document.querySelector('#revoked').value") == "yes"
    await browser.open("/ui/library?q=market&mediaType=image&archived=no")
    assert await browser.texts(".card .caption") == ["Market day"]
    await browser.open("/ui/library?q=market&mediaType=file")
    assert await browser.texts(".card .caption") == []
    await browser.until_text("main", "Nothing matches.")


async def test_the_library_scrolls_on_and_on(web: Stack, browser: Browser) -> None:
    api = await web.api()
    titles = [f"Scroll picture {i:03d}" for i in range(130)]
    for start in range(0, 130, 65):
        await _entries(web, api, titles[start : start + 65], systemName="scroll")
    await browser.sign_in(await web.token())
    await browser.open("/ui/library?systemName=scroll")
    first = await browser.texts(".card .caption")
    assert len(first) == 100
    assert set(titles[65:]) <= set(first)  # newest first: the second request's entries
    loaded = await browser.script("return document.querySelector('.card img').naturalWidth")
    assert loaded > 0  # the thumbnail came from the server's own image service
    await browser.shot("library-grid")
    await browser.script("window.scrollTo(0, document.body.scrollHeight)")
    await browser.until(lambda d: len(d.find_elements("css selector", ".card")) == 130, "130 cards")
    captions = await browser.texts(".card .caption")
    assert sorted(captions) == titles  # each once

    await browser._run(lambda: browser.driver.set_window_size(390, 844))
    await browser.open("/ui/library?systemName=scroll")
    await browser.shot("library-phone")


async def test_metadata_is_edited_with_errors_at_their_fields(web: Stack, browser: Browser) -> None:
    api = await web.api("typed")
    key = new_key()
    await web.put_asset(key)
    [result] = await import_entries(api, [image_entry(key, metadata={"title": "Short"})])
    entry_id = result["record"]["id"]
    await browser.sign_in(await web.token("typed"))
    await browser.open(f"/ui/entries/{entry_id}")
    await browser.fill("#m-title", "A title far longer than twenty characters")
    await browser.fill("#m-rank", "eleven")
    await browser.click("form[action$='/metadata'] button[type=submit]")
    await browser.until_text(".field-error", "")
    errors = dict(
        zip(
            await browser.script(
                "return [...document.querySelectorAll('.field-error')].map(e => e.id)"
            ),
            await browser.texts(".field-error"),
            strict=True,
        )
    )
    assert set(errors) == {"m-title-error", "m-rank-error"}
    assert "20" in errors["m-title-error"]
    assert "integer" in errors["m-rank-error"].lower()
    assert await browser.script("return document.querySelector('#m-title').value") == (
        "A title far longer than twenty characters"
    )  # what was typed stays, to be mended
    assert (
        await browser.script(
            "return document.querySelector('#m-rank').getAttribute('aria-invalid')"
        )
        == "true"
    )
    await browser.script("document.querySelector('.error').scrollIntoView()")
    await browser.shot("entry-metadata-errors")
    assert (await _entry(api, entry_id))["metadata"] == {"title": "Short"}

    await browser.fill("#m-title", "Mended")
    await browser.fill("#m-rank", "7")
    await browser.click("form[action$='/metadata'] button[type=submit]")
    await browser.until_text(".notice", "Saved.")
    assert (await _entry(api, entry_id))["metadata"] == {"title": "Mended", "rank": 7}


async def test_revoke_unrevoke_and_delete(web: Stack, browser: Browser) -> None:
    api = await web.api()
    [entry_id] = await _entries(web, api, ["To be revoked"])
    await browser.sign_in(await web.token())
    await browser.open(f"/ui/entries/{entry_id}")
    await browser.fill("#note", "The licence ended")
    await browser.click("form[action$='/revoke'] button")
    await browser.until_text(".facts-list", "The licence ended")
    entry = await _entry(api, entry_id)
    assert (entry["revoked"], entry["revokeNote"]) == (True, "The licence ended")
    await browser.shot("entry-revoked")

    await browser.click("form[action$='/unrevoke'] button")
    await browser.until(
        lambda d: d.find_elements("css selector", "form[action$='/revoke']"), "revoke"
    )
    assert (await _entry(api, entry_id))["revoked"] is False

    await browser.script("window.confirm = () => true")  # the delete button asks first
    await browser.click("form[action$='/delete'] button")
    await browser.until(lambda d: d.current_url.endswith("/ui/library"), "the library")
    gone = await api.get(f"/api/{V}/mediaLibrary/{entry_id}")
    assert gone.status_code == 404


async def _drop(browser: Browser, files: list[Path]) -> None:
    """A drop as the browser makes it: files in a DataTransfer, on a `drop` event of the zone."""
    await browser.script(
        "const i = document.createElement('input'); i.type = 'file'; i.multiple = true;"
        "i.id = 'dropped-files'; document.body.append(i);"
    )
    picker = await browser.find("#dropped-files")
    await browser._run(lambda: picker.send_keys("\n".join(str(f) for f in files)))
    await browser.script(
        "const data = new DataTransfer();"
        "for (const f of document.getElementById('dropped-files').files) data.items.add(f);"
        "document.getElementById('dropzone').dispatchEvent("
        "  new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));"
    )


async def test_files_dropped_on_the_library_are_uploaded_and_registered(
    web: Stack, browser: Browser, tmp_path: Any
) -> None:
    picture = tmp_path / "dropped.png"
    picture.write_bytes(media.png(120, 80))
    document = tmp_path / "notes.pdf"
    document.write_bytes(b"%PDF-1.4\n" + b"0" * 2000)
    liar = tmp_path / "liar.png"
    liar.write_bytes(b"not a picture at all, whatever its name says" * 10)
    await browser.sign_in(await web.token())
    await browser.open("/ui/library")
    await _drop(browser, [picture, document, liar])
    await browser.until(
        lambda d: (
            len(d.find_elements("css selector", "#uploads li.uploaded")) == 2
            and d.find_elements("css selector", "#uploads li.upload-failed")
        ),
        "two uploads done and one refused",
    )
    [refused] = await browser.texts("#uploads li.upload-failed")
    assert refused.startswith("liar.png: ")
    assert len(refused) > len("liar.png: ") + 10
    await browser.shot("library-uploaded")
    links = await browser.script(
        "return [...document.querySelectorAll('#uploads a')].map(a => a.getAttribute('href'))"
    )
    api = await web.api()
    entries = [await _entry(api, link.rsplit("/", 1)[1]) for link in links]
    by_type = {e["asset"]["mimeType"]: e for e in entries}
    assert by_type["image/png"]["asset"]["width"] == 120
    assert by_type["image/png"]["asset"]["height"] == 80
    assert by_type["image/png"]["mediaType"] == "image"
    assert by_type["application/pdf"]["mediaType"] == "file"
    assert by_type["application/pdf"]["asset"]["size"] == document.stat().st_size


async def test_the_events_page_shows_deliveries(
    web: Stack, browser: Browser, origin: Origin
) -> None:
    hook = origin.status("hook", 500)  # a receiver that keeps failing
    api = await web.api()
    good = origin.file("evented.jpg", media.jpeg(), "image/jpeg")
    items = [{"url": good, "id": "evented", "fileName": "e.jpg", "metadata": {}}]
    body = {"systemName": "web", "images": items, "webhook": hook}
    job_id = (await api.post(f"/api/{V}/import/images", json=body)).json()["id"]
    await browser.sign_in(await web.token())
    await browser.open("/ui/events")
    await browser.until(
        lambda d: (d.refresh() or True) and "HTTP 500" in d.find_element("tag name", "main").text,
        "a failed attempt",
    )
    assert job_id in (await browser.texts("main"))[0]
    await browser.shot("events")


async def test_docs_work_with_the_network_cut(web: Stack, browser: Browser) -> None:
    await browser.open("/docs")
    await browser.until_text(".swagger-ui", "medialib")
    await browser.until(
        lambda d: d.find_elements("css selector", ".opblock-summary"), "the operations"
    )
    resources = await browser.script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
    )
    assert resources, "the page loaded no scripts?"
    assert all(url.startswith(web.url) for url in resources), resources
    await browser.shot("docs")


async def _keeps_to_the_policy(browser: Browser, where: str) -> None:
    """The page holds no inline code and the console shows nothing the policy refused."""
    assert await browser.inline_code() == [], where
    assert await browser.policy_violations() == [], where


async def test_every_page_keeps_to_the_policy(web: Stack, browser: Browser, origin: Origin) -> None:
    api = await web.api()
    [entry_id] = await _entries(web, api, ["Policy harbour"])
    items = [
        {"url": origin.file("kept.jpg", media.jpeg(), "image/jpeg"), "id": "kept"},
        {"url": origin.status("lost.jpg", 404), "id": "lost"},  # the failed items' table
    ]
    body = {
        "systemName": "policy",
        "images": [{**i, "fileName": "p.jpg", "metadata": {}} for i in items],
    }
    job_id = (await api.post(f"/api/{V}/import/images", json=body)).json()["id"]

    await browser.open("/ui/sign-in")
    await _keeps_to_the_policy(browser, "sign-in")
    await browser.sign_in(await web.token())
    await browser.open(f"/ui/jobs/{job_id}")
    await browser.until_text("#job-head", "finished")
    await _keeps_to_the_policy(browser, "job")
    await browser.open(f"/ui/entries/{entry_id}")
    # The picture is the focal point form's image button (tests/web/test_focal_points.py): its
    # rendition loads under the policy.
    picture = await browser.script("return document.querySelector('figure input[type=image]').src")
    loaded = "const i = new Image(); i.src = arguments[0]; return i.decode().then(() => i.width)"
    assert await browser.script(loaded, picture) > 0
    await _keeps_to_the_policy(browser, "entry")
    for page in ("/ui/library", "/ui/jobs", "/ui/operations", "/ui/events"):
        await browser.open(page)
        await _keeps_to_the_policy(browser, page)

    await browser.open("/ui/nothing-here")
    assert await browser.texts("h1") == ["Error 404"]
    await _keeps_to_the_policy(browser, "error page")
    await browser.shot("error-page")
    await browser._run(lambda: browser.driver.find_element("link text", "Back").click())
    await browser.until(lambda d: d.current_url.endswith("/ui/events"), "the page before")
    assert await browser.policy_violations() == []
    # The policy is in force: a script written into the page does not run.
    assert await browser.inline_script_refused_by() == "script-src-elem"


async def test_a_delete_asks_first(web: Stack, browser: Browser) -> None:
    api = await web.api()
    [entry_id] = await _entries(web, api, ["Think twice"])
    await browser.sign_in(await web.token())
    await browser.open(f"/ui/entries/{entry_id}")

    await browser.click("form[action$='/delete'] button")
    asked = await browser.alert()
    assert asked.text == "Delete this entry for good?"
    await browser._run(asked.dismiss)
    assert await browser.path() == f"/ui/entries/{entry_id}"
    assert (await _entry(api, entry_id))["id"] == entry_id  # nothing was sent

    await browser.click("form[action$='/delete'] button")
    await browser._run((await browser.alert()).accept)
    await browser.until(lambda d: d.current_url.endswith("/ui/library"), "the library")
    assert (await api.get(f"/api/{V}/mediaLibrary/{entry_id}")).status_code == 404
    assert await browser.policy_violations() == []
    assert await browser.inline_script_refused_by() == "script-src-elem"


async def test_files_go_straight_into_a_bucket_under_the_policy(
    browser: Browser, s3_server: MotoS3, tmp_path: Path
) -> None:
    """On S3 the browser PUTs to the bucket's presigned URL, another origin than medialib's:
    the policy allows it."""
    picture = tmp_path / "bucketed.png"
    picture.write_bytes(media.png(90, 60))
    clip = tmp_path / "clip.webm"  # its duration is read from a blob: URL, as media-src allows
    clip.write_bytes(videos.video("webm", seconds=1.0))
    stack = await start_web_stack(tmp_path / "home", s3_server)
    page = Browser(browser.driver, stack.url)
    try:
        await page.sign_in(await stack.token())
        await page.open("/ui/library")
        await _drop(page, [picture, clip])
        await page.until(
            lambda d: len(d.find_elements("css selector", "#uploads li.uploaded")) == 2,
            "two uploads done",
        )
        await page.shot("library-uploaded-to-a-bucket")
        links = await page.script(
            "return [...document.querySelectorAll('#uploads a')].map(a => a.getAttribute('href'))"
        )
        api = await stack.api()
        entries = [await _entry(api, link.rsplit("/", 1)[1]) for link in links]
        by_type = {e["asset"]["mimeType"]: e["asset"] for e in entries}
        assert (by_type["image/png"]["width"], by_type["image/png"]["height"]) == (90, 60)
        assert abs(by_type["video/webm"]["duration"] - 1.0) < 0.2
        assert by_type["video/webm"]["poster"]["width"] == 64  # made from the bucket's copy
        await _keeps_to_the_policy(page, "library after uploads")
        await page.open("/ui/library")
        await page.until(
            lambda d: d.execute_script(
                "return [...document.querySelectorAll('.card img')].every(i => i.naturalWidth)"
            ),
            "thumbnails",
        )
        await _keeps_to_the_policy(page, "library of a bucket")
        assert await page.inline_script_refused_by() == "script-src-elem"
    finally:
        await page.open("/ui/sign-in")  # nothing left loading from the stack that stops now
        await stack.close()


async def test_the_next_page_of_a_search_keeps_the_whole_search(web: Stack) -> None:
    """A search with '&' in it: the next page's URL carries it %-encoded, not cut in two."""
    api = await web.api()
    key = new_key()
    await web.put_asset(key)
    entries = [
        shared(image_entry(key, metadata={"title": f"salt & pepper {i}"})) for i in range(101)
    ]
    assert all(r["ok"] for r in await import_entries(api, entries))
    client, _ = await _session(web, await web.token())

    page = await client.get("/ui/library", params={"q": "salt & pepper"})

    assert "q=salt+%26+pepper" in page.text
