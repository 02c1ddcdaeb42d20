"""The web view shows an entry that is not served for what its metadata says (issue 28) as it
shows a revoked one, with why; and its metadata form marks an entry invalid and valid again, as
the API does, over HTTP."""

from __future__ import annotations

import html

from tests.support.entries import stored_image
from tests.support.stack import Stack
from tests.support.web import sign_in

PROJECT = "validity"  # its image type has `invalid` (li-invalid) and `validity`


async def test_an_invalid_entry_is_shown_as_not_served(stack: Stack) -> None:
    api = await stack.api(PROJECT)
    later = {"from": "2999-01-01T00:00:00Z"}
    entry = await stored_image(stack, api, metadata={"title": "Embargoed", "validity": later})
    key, page = entry["asset"]["key"], f"/ui/entries/{entry['id']}"
    web = await sign_in(stack, await stack.token(PROJECT))

    shown = html.unescape((await web.client.get(page)).text)
    library = (await web.client.get("/ui/library?q=Embargoed")).text

    assert "<dt>State</dt><dd>invalid (not valid yet): not served</dd>" in shown
    assert f"/media/{key}?w=" not in shown  # no picture that answers 403
    assert "<strong>invalid</strong>" in library

    saved = await web.post_form(
        f"{page}/metadata",
        {"version": "1", "title": "Embargoed", "invalid": "true", "validity": ""},
    )
    assert saved.status_code == 303, saved.text[:500]
    shown = html.unescape((await web.client.get(page)).text)
    assert "<dt>State</dt><dd>invalid (marked invalid): not served</dd>" in shown
    assert (await stack.client().get(f"/media/{key}")).status_code == 403

    saved = await web.post_form(
        f"{page}/metadata", {"version": "2", "title": "Embargoed", "invalid": "false"}
    )
    assert saved.status_code == 303, saved.text[:500]
    shown = html.unescape((await web.client.get(page)).text)
    assert "<dt>State</dt><dd>live</dd>" in shown
    assert (await stack.client().get(f"/media/{key}")).status_code == 200
