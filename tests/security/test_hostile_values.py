"""Query values, path values and stored header values at their extremes: numbers past what a
float holds once multiplied, dates at the edges of what a datetime holds, digits that are not
ASCII, media types that cannot be a header. Each is a 400 in the API's error shape (or, for the
web view, its own error page; a header a server may ignore is ignored), never a 500, and the
server goes on serving.

Found in the trust issue (item 5); the parsers themselves are searched as properties in
tests/test_parsing_properties.py, tests/media/test_rendition_params_properties.py,
tests/db/test_keyset_properties.py and the other `*_properties.py` beside the code they test.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from medialib.db.tables import assets
from medialib.media.storage import is_valid_key
from tests.support.entries import file_asset, image_entry, import_entries, new_key, stored_image
from tests.support.sessions import sign_in
from tests.support.stack import Stack

# Digits `str.isdigit` takes: '²' is one `int` refuses; Arabic-Indic ones `int` reads.
SUPERSCRIPT_TWO = "\u00b2"
ARABIC_ONE = "\u0661"
ARABIC_FIFTY = "\u0665\u0660"
ARABIC_HUNDRED = "\u0661\u0660\u0660"

LIST = "/api/2026-05/mediaLibrary"
STATUS = "/api/2026-05/import/images/status"


def is_bad_request(response: httpx.Response, field: str) -> None:
    """A 400 in the API's error shape that names `field`."""
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert body["status"] == 400
    assert body["error"] == "Bad Request"
    assert field in body["error_details"], body


async def still_serving(stack: Stack) -> None:
    assert (await stack.client().get("/healthz")).json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"w": "1e308", "dpr": "2"}, "w"),
        ({"h": "1e308", "dpr": "5"}, "h"),
        ({"w": "1e300"}, "w"),
        ({"rect": "0,0,1e308,1e308"}, "rect"),
        ({"q": SUPERSCRIPT_TWO}, "q"),
        ({"q": ARABIC_FIFTY}, "q"),
        ({"w": ARABIC_HUNDRED}, "w"),
        ({"w": "1_000"}, "w"),
    ],
    ids=[
        "w-1e308-dpr-2",
        "h-1e308-dpr-5",
        "w-1e300",
        "rect-1e308",
        "q-superscript",
        "q-arabic",
        "w-arabic",
        "w-underscore",
    ],
)
async def test_rendition_numbers_at_their_extremes_are_a_400_naming_the_parameter(
    stack: Stack, project: str, query: dict[str, str], field: str
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await stack.client().get(f"/media/{record['asset']['key']}", params=query)

    is_bad_request(response, field)
    await still_serving(stack)


EDGE_TIMES = [
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59.999999-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00.000001+00:01",
]


@pytest.mark.parametrize("when", EDGE_TIMES)
@pytest.mark.parametrize("field", ["createdAfter", "createdBefore", "updatedAfter"])
async def test_times_at_the_edges_of_the_calendar_are_a_400_or_an_answer(
    stack: Stack, project: str, field: str, when: str
) -> None:
    api = await stack.api(project)
    await stored_image(stack, api)

    response = await api.get(LIST, params={field: when})

    if response.status_code == 200:  # a time that is in range in UTC: a page, maybe empty
        assert response.json()["cursor"] is None
    else:
        is_bad_request(response, field)
    await still_serving(stack)


async def test_the_last_millisecond_of_the_calendar_has_nothing_after_it(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    await stored_image(stack, api)

    after = await api.get(LIST, params={"createdAfter": "9999-12-31T23:59:59.999999Z"})
    before = await api.get(LIST, params={"createdBefore": "9999-12-31T23:59:59.999999Z"})

    assert after.status_code == 200, after.text
    assert after.json()["results"] == []
    assert len(before.json()["results"]) == 1


async def test_a_time_that_leaves_the_calendar_in_utc_is_a_400(stack: Stack, project: str) -> None:
    api = await stack.api(project)

    response = await api.get(LIST, params={"createdBefore": "0001-01-01T00:00:00+14:00"})

    is_bad_request(response, "createdBefore")


def _cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        (STATUS, SUPERSCRIPT_TWO),
        (STATUS, ARABIC_ONE),
        (LIST, SUPERSCRIPT_TWO),
        (LIST, _cursor_of("0001-01-01T00:00:00+14:00|abc")),
        (LIST, _cursor_of("9999-12-31T23:59:59.999999-14:00|abc")),
        (LIST, _cursor_of("2026-01-01T00:00:00+00:00|abc\n")),
        ("/api/2026-05/import/jobs", _cursor_of("0001-01-01T00:00:00+14:00|abc")),
        ("/api/2026-05/events/deliveries", _cursor_of("0001-01-01T00:00:00+14:00|abc")),
    ],
    ids=[
        "job-status-superscript",
        "job-status-arabic",
        "list-superscript",
        "list-year-1",
        "list-year-10000",
        "list-newline",
        "jobs-year-1",
        "deliveries-year-1",
    ],
)
async def test_a_cursor_medialib_did_not_make_is_a_400(
    stack: Stack, project: str, path: str, cursor: str
) -> None:
    api = await stack.api(project)

    given = {"id": "x", "limit": "5"} if path == STATUS else {}

    response = await api.get(path, params=given | {"cursor": cursor})

    is_bad_request(response, "cursor")
    await still_serving(stack)


BAD_MEDIA_TYPES = [
    "application/x一",
    "application/x\u00e9",
    "text/plain ",
    "a/b;c=d",
    "/json",
    "application/",
    "-x/y",
    "*/*",
]


@pytest.mark.parametrize("mime_type", BAD_MEDIA_TYPES)
async def test_a_media_type_that_cannot_be_a_header_is_refused_where_it_is_registered(
    stack: Stack, project: str, mime_type: str
) -> None:
    api = await stack.api(project)
    key = new_key("pdf")
    await stack.put_asset(key)
    entry = image_entry(key, mediaType="file", asset=file_asset(key, mimeType=mime_type))

    [imported] = await import_entries(api, [entry])
    upload = await api.post(
        "/api/2026-05/mediaLibrary/uploads",
        json={"fileName": "a.pdf", "mimeType": mime_type, "size": 10},
    )

    assert imported["ok"] is False
    assert imported["status"] == 400
    is_bad_request(upload, "mimeType")


async def test_a_registered_media_type_is_served_as_its_content_type(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key = new_key("bin")
    await stack.put_asset(key)
    mime_type = "application/vnd.example.thing+json"
    entry = image_entry(key, mediaType="file", asset=file_asset(key, mimeType=mime_type))
    [imported] = await import_entries(api, [entry])
    assert imported["ok"], imported

    served = await stack.client().get(f"/media/{key}")

    assert served.status_code == 200
    assert served.headers["content-type"] == mime_type


@pytest.mark.parametrize("version", [SUPERSCRIPT_TWO, ARABIC_ONE, "1" * 5000, "-1"])
async def test_a_patch_version_that_is_no_whole_number_is_a_400(
    stack: Stack, project: str, version: Any
) -> None:
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await api.patch(
        f"{LIST}/{record['id']}", json={"version": version, "patches": [{"operation": "archive"}]}
    )

    is_bad_request(response, "version")
    assert (await api.get(f"{LIST}/{record['id']}")).json()["version"] == 1


async def test_a_stored_media_type_that_cannot_be_a_header_is_served_as_bytes(
    stack: Stack, project: str
) -> None:
    """Rows recorded before media types were checked keep their type; serving one must not
    fail on it."""
    api = await stack.api(project)
    record = await stored_image(stack, api)
    key = record["asset"]["key"]
    async with stack.runtime.db.write() as tx:
        await tx.execute(sa.update(assets).where(assets.c.key == key).values(mime_type="image/x一"))

    served = await stack.client().get(f"/media/{key}")
    proxied = await api.get(f"/api/2026-05/mediaLibrary/serve-image/{key}")

    for response in (served, proxied):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["x-content-type-options"] == "nosniff"


async def _signed_in(stack: Stack, project: str) -> httpx.AsyncClient:
    browser = stack.client()
    await sign_in(browser, await stack.token(project))
    return browser


@pytest.mark.parametrize("page", ["/ui/library", "/ui/jobs", "/ui/events"])
@pytest.mark.parametrize(
    "cursor",
    [
        SUPERSCRIPT_TWO,
        _cursor_of("0001-01-01T00:00:00+14:00|abc"),
        _cursor_of("9999-12-31T23:59:59.999999-14:00|abc"),
    ],
    ids=["superscript", "year-1", "year-10000"],
)
async def test_the_web_view_answers_a_bad_cursor_with_its_error_page(
    stack: Stack, project: str, page: str, cursor: str
) -> None:
    browser = await _signed_in(stack, project)

    response = await browser.get(page, params={"cursor": cursor})

    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert "is not a cursor this API gave" in response.text


@pytest.mark.parametrize("expires", [SUPERSCRIPT_TWO, "9" * 5000], ids=["superscript", "long"])
async def test_a_session_cookie_with_odd_digits_is_no_session(stack: Stack, expires: str) -> None:
    # Header bytes are read as Latin-1, where '²' is 0xB2.
    cookie = f"medialib_session=demo.t.{expires}.s".encode("latin-1")

    response = await stack.client().get("/ui/library", headers={b"Cookie": cookie})

    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"].startswith("/ui/sign-in")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Range", "bytes=" + "9" * 5000 + "-"),
        ("Range", "bytes=-" + "9" * 5000),
        ("If-Modified-Since", "Mon, 01 Jan 2020 00:00:00 +99999999999999999999"),
        ("If-Modified-Since", "Mon, 01 Jan 99999999999999999999 00:00:00 GMT"),
    ],
    ids=["range-start", "range-suffix", "since-offset", "since-year"],
)
async def test_request_headers_with_numbers_past_a_c_long_are_ignored(
    stack: Stack, project: str, header: str, value: str
) -> None:
    """A server may ignore a Range or a date it cannot take: the whole body, not a 500."""
    api = await stack.api(project)
    record = await stored_image(stack, api)

    response = await stack.client().get(f"/media/{record['asset']['key']}", headers={header: value})

    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-length"] == str(record["asset"]["size"])


@pytest.mark.parametrize("file_name", ["a.jpg\n", "a.JPG\n", "a.\u0661"])
async def test_an_upload_s_key_is_a_key_whatever_the_file_is_called(
    stack: Stack, project: str, file_name: str
) -> None:
    api = await stack.api(project)

    response = await api.post(
        "/api/2026-05/mediaLibrary/uploads",
        json={"fileName": file_name, "mimeType": "image/jpeg", "size": 10},
    )

    assert response.status_code == 200, response.text[:300]
    assert is_valid_key(response.json()["key"])
