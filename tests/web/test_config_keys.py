"""The entry's metadata form follows the original's property config (issue 28, item 2), over HTTP
on both backends: `hideFromForm` and `ui.config.readOnly` keep a value out of the form's reach,
`requiredErrorMessage` is what an emptied required field says, `allowNewlines` and
`ui.config.rows` make a field one line or several, `ui.config.placeholder` fills an empty one,
`recommendedMinLength`/`recommendedMaxLength` are a hint with a count, and the media type's
`info` is shown. Project `config-keys` (tests/support/stack.py). The last test does it in a
real Chromium."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from medialib.db.tables import media_entries
from medialib.library.repository import entry_row
from tests.support.entries import image_asset, import_entries, new_key, unique
from tests.support.stack import Stack
from tests.support.web import WebSession, sign_in
from tests.web.conftest import Browser

PROJECT = "config-keys"
V = "2026-05"
STORED = {
    "title": "Harbour",
    "caption": "Boats\nat dawn",
    "externalId": "ext-4711",
    "note": "One\nTwo",
    "checkedBy": "Anna",
    "license": "cc",
}


class Controls(HTMLParser):
    """The metadata form's controls by id: their tag and attributes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: dict[str, tuple[str, dict[str, str | None]]] = {}
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag in ("input", "textarea", "select") and (named.get("id") or "").startswith("m-"):
            self.found[str(named["id"])[2:]] = (tag, named)


def _field_error(page: str, prop: str) -> str | None:
    found = re.search(rf'<p id="m-{prop}-error" class="error field-error">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


@pytest.fixture
async def signed_in(stack: Stack) -> WebSession:
    return await sign_in(stack, await stack.token(PROJECT))


async def _entry(stack: Stack, **metadata: Any) -> str:
    api = await stack.api(PROJECT)
    key = new_key()
    await stack.put_asset(key)
    entry = {
        "systemName": "archive",
        "externalId": unique("form"),
        "mediaType": "image",
        "asset": image_asset(key),
        "metadata": STORED | metadata,
    }
    [result] = await import_entries(api, [entry])
    assert result["ok"], result
    entry_id: str = result["id"]
    return entry_id


async def _metadata(stack: Stack, entry_id: str) -> dict[str, Any]:
    api = await stack.api(PROJECT)
    read: dict[str, Any] = (await api.get(f"/api/{V}/mediaLibrary/{entry_id}")).json()["metadata"]
    return read


async def test_the_form_shows_each_property_as_its_config_says(
    stack: Stack, signed_in: WebSession
) -> None:
    entry_id = await _entry(stack)

    page = (await signed_in.client.get(f"/ui/entries/{entry_id}")).text
    controls = Controls(page).found

    assert "externalId" not in controls  # hideFromForm
    assert "ext-4711" not in page
    title_tag, title = controls["title"]
    assert title_tag == "input"  # allowNewlines: false
    assert title["placeholder"] == "What it shows"
    assert title["aria-describedby"] == "m-title-hint"
    assert '<label for="m-title">Headline (required)' in page
    hint = re.search(r'<p id="m-title-hint" class="help">(.*?)</p>', page, re.S)
    assert hint is not None
    assert re.sub(r"<[^>]+>", "", hint.group(1)) == "Recommended: 5 to 40 characters. Now 7."
    assert controls["caption"][0] == "textarea"  # li-text takes lines unless told otherwise
    assert controls["caption"][1]["rows"] == "3"
    note_tag, note = controls["note"]
    assert (note_tag, note["rows"]) == ("textarea", "6")  # li-string with allowNewlines, rows
    assert "Recommended: at most 80 characters." in page
    checked_tag, checked = controls["checkedBy"]
    assert (checked_tag, "readonly" in checked) == ("textarea", True)
    assert "(read only)" in page
    license_tag, license_ = controls["license"]
    assert (license_tag, "disabled" in license_) == ("select", True)
    assert "Picture: Archive photos" in page  # the media type's info


async def test_hidden_and_read_only_values_stay_whatever_the_form_sends(
    stack: Stack, signed_in: WebSession
) -> None:
    entry_id = await _entry(stack)
    form = {
        "version": "1",
        "title": "Harbour at dusk",
        "caption": "Boats\r\nat dawn",  # a textarea's line breaks, as a browser sends them
        "note": "One\r\nTwo",
        "externalId": "forged",
        "checkedBy": "Mallory",
        "license": "rm",
    }

    response = await signed_in.post_form(f"/ui/entries/{entry_id}/metadata", form)

    assert response.status_code == 303, response.text[:500]
    assert await _metadata(stack, entry_id) == STORED | {"title": "Harbour at dusk"}
    # Left out of the form altogether, they stay too (a hidden one is never sent).
    response = await signed_in.post_form(
        f"/ui/entries/{entry_id}/metadata", {"version": "2", "title": "Harbour"}
    )
    assert response.status_code == 303, response.text[:500]
    assert (await _metadata(stack, entry_id))["externalId"] == "ext-4711"


async def test_an_emptied_required_field_says_the_configs_words(
    stack: Stack, signed_in: WebSession
) -> None:
    entry_id = await _entry(stack)
    before = await stack.snapshot(PROJECT)

    response = await signed_in.post_form(
        f"/ui/entries/{entry_id}/metadata", {"version": "1", "title": "  ", "caption": "x"}
    )

    assert response.status_code == 400
    assert _field_error(response.text, "title") == "Please name the picture"
    assert await stack.snapshot(PROJECT) == before
    # The API keeps its own words for the same change.
    api = await stack.api(PROJECT)
    patch = {"operation": "setMetadataProperty", "propertyName": "title", "value": None}
    refused = await api.patch(f"/api/{V}/mediaLibrary/{entry_id}", json={"patches": [patch]})
    assert refused.json()["error_details"] == {
        "patches.0.value": "The metadata must have required property 'title'"
    }


async def test_a_recommended_length_is_a_hint_not_a_rule(
    stack: Stack, signed_in: WebSession
) -> None:
    entry_id = await _entry(stack)
    long_title = "A title of more than forty characters, which is long"

    response = await signed_in.post_form(
        f"/ui/entries/{entry_id}/metadata", {"version": "1", "title": long_title}
    )

    assert response.status_code == 303, response.text[:500]
    assert (await _metadata(stack, entry_id))["title"] == long_title
    page = (await signed_in.client.get(f"/ui/entries/{entry_id}")).text
    assert f'<span data-counts="m-title">{len(long_title)}</span>' in page


async def test_a_one_line_field_refuses_a_line_break_at_the_field(
    stack: Stack, signed_in: WebSession
) -> None:
    entry_id = await _entry(stack)

    response = await signed_in.post_form(
        f"/ui/entries/{entry_id}/metadata", {"version": "1", "title": "Two\nlines"}
    )

    assert response.status_code == 400
    assert _field_error(response.text, "title") == (
        "The value of '/title' must NOT contain line breaks"
    )
    assert 'value="Two\nlines"' in response.text  # what was sent stays, to be mended


async def test_crops_outside_the_image_are_refused_at_their_field(
    stack: Stack, signed_in: WebSession
) -> None:
    entry_id = await _entry(stack)
    before = await stack.snapshot(PROJECT)
    crops = '{"crops": [{"name": "wide", "x": 600, "y": 0, "width": 100, "height": 100}]}'

    response = await signed_in.post_form(
        f"/ui/entries/{entry_id}/metadata", {"version": "1", "title": "Harbour", "crops": crops}
    )

    assert response.status_code == 400
    assert _field_error(response.text, "crops") == (
        "The value of '/crops/crops/0' must lie within the image (640x480 pixels)"
    )
    assert await stack.snapshot(PROJECT) == before

    # Crops stored before the rule, sent back unchanged by the form, do not stop a save.
    key = new_key()
    await stack.put_asset(key)
    legacy = {"crops": [{"name": "wide", "x": 600, "y": 0, "width": 100, "height": 100}]}
    row = entry_row(
        project=PROJECT,
        media_type="image",
        asset=image_asset(key),
        metadata={"title": "Old", "crops": legacy},
        now=dt.datetime.now(dt.UTC),
    )
    await stack.runtime.db.transact(lambda tx: tx.execute(media_entries.insert(), [row]))
    page = (await signed_in.client.get(f"/ui/entries/{row['id']}")).text
    shown = re.search(r'<textarea id="m-crops"[^>]*>([^<]*)</textarea>', page)
    assert shown is not None
    form = {"version": "1", "title": "New", "crops": html.unescape(shown.group(1))}
    response = await signed_in.post_form(f"/ui/entries/{row['id']}/metadata", form)
    assert response.status_code == 303, response.text[:500]
    assert await _metadata(stack, row["id"]) == {"title": "New", "crops": legacy}


async def test_in_a_browser_a_hidden_field_stays_and_a_required_one_says_why(
    web: Stack, browser: Browser
) -> None:
    entry_id = await _entry(web)
    await browser.sign_in(await web.token(PROJECT))
    await browser.open(f"/ui/entries/{entry_id}")

    assert await browser.all("#m-externalId") == []
    await browser.fill("#m-title", "Harbour at dusk, with boats")
    assert await browser.texts("#m-title-hint") == [
        "Recommended: 5 to 40 characters. Now 27."
    ]  # counted as it is typed
    await browser.fill("#m-title", "")
    await browser.click("form[action$='/metadata'] button[type=submit]")
    await browser.until_text(".field-error", "")
    assert await browser.texts(".field-error") == ["Please name the picture"]
    invalid = "return document.querySelector('#m-title').getAttribute('aria-invalid')"
    assert await browser.script(invalid) == "true"
    await browser.shot("entry-required-error-message")
    assert await _metadata(web, entry_id) == STORED

    await browser.fill("#m-title", "Harbour at dusk")
    await browser.click("form[action$='/metadata'] button[type=submit]")
    await browser.until_text(".notice", "Saved.")
    assert await _metadata(web, entry_id) == STORED | {"title": "Harbour at dusk"}
