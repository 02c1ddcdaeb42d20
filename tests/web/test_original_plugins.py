"""The web view's metadata form on a media type configured as the original's docs do it (project
`original`): properties are named by their `ui.label`, a structured value (crops, references)
is edited as JSON, and a broken one is refused at its field in the API's words."""

from __future__ import annotations

import json
from typing import Any

from tests.support.entries import image_asset, import_entries, new_key, unique
from tests.support.original_config import VALID_IMAGE_METADATA
from tests.support.referenced import make_referenced_entries
from tests.support.stack import Stack
from tests.web.conftest import Browser

PROJECT = "original"
# As stored; text the form would show as nothing (an empty note) or change (a line break in a
# textarea comes back as CRLF) is left out.
METADATA: dict[str, Any] = {
    k: v for k, v in VALID_IMAGE_METADATA.items() if k not in ("note", "caption")
}


async def test_structured_values_are_edited_as_json(web: Stack, browser: Browser) -> None:
    api = await web.api(PROJECT)
    await make_referenced_entries(web, api)
    key = new_key()
    await web.put_asset(key)
    entry = {
        "systemName": "archive",
        "externalId": unique("web"),
        "mediaType": "image",
        "asset": image_asset(key),
        "metadata": METADATA,
    }
    [stored] = await import_entries(api, [entry])
    assert stored["ok"], stored
    entry_id = stored["id"]
    await browser.sign_in(await web.token(PROJECT))

    await browser.open(f"/ui/entries/{entry_id}")

    labels = await browser.texts("form[action$='/metadata'] label")
    assert any(label.startswith("License Profile") for label in labels)
    assert any(label.startswith("Image ID") for label in labels)
    shown = await browser.script("return document.querySelector('#m-namedCrops').value")
    assert json.loads(shown) == METADATA["namedCrops"]

    moved = METADATA["namedCrops"] | {"focalPoint": {"x": 10, "y": 20}}
    await browser.fill("#m-namedCrops", json.dumps(moved))
    await browser.click("form[action$='/metadata'] button[type=submit]")
    await browser.until_text(".notice", "Saved.")
    read = (await api.get(f"/api/2026-05/mediaLibrary/{entry_id}")).json()
    assert read["metadata"] == METADATA | {"namedCrops": moved}

    await browser.fill("#m-namedCrops", '{"crops": [{"name": "desktop", "x": -1}]}')
    await browser.click("form[action$='/metadata'] button[type=submit]")
    await browser.until_text(".field-error", "")
    [error] = await browser.texts(".field-error")
    assert "/namedCrops/crops/0" in error
    read = (await api.get(f"/api/2026-05/mediaLibrary/{entry_id}")).json()
    assert read["metadata"] == METADATA | {"namedCrops": moved}
