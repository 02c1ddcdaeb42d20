"""Near-duplicates in the web view (issue 30): the entry page lists an entry's, closest first;
the library's near-duplicates page lists groups, and an editor archives the weaker copies from
there. Over plain HTTP and in a real Chromium."""

from __future__ import annotations

import random
import re

import httpx
import pytest

from medialib.library import similar
from tests.support.sessions import sign_in
from tests.support.stack import Stack
from tests.web.conftest import Browser
from tests.web.test_web_view import _entries, _entry


async def _hashed(web: Stack, hashes: dict[str, int]) -> None:
    await web.runtime.db.transact(lambda tx: similar.record_hashes(tx, "demo", hashes))


async def _copies(web: Stack, api: httpx.AsyncClient, seed: int, titles: list[str]) -> list[str]:
    """Entries of these titles whose hashes are 0, 1, 2, … bits from the first's."""
    ids = await _entries(web, api, titles)
    centre = random.Random(seed).getrandbits(64)
    await _hashed(web, {entry_id: centre ^ ((1 << n) - 1) for n, entry_id in enumerate(ids)})
    return ids


def _near_on_page(page: str) -> list[tuple[str, str]]:
    """The entry page's near-duplicates: (id, distance text), in order."""
    section = page.split("<h2>Near-duplicates</h2>", 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'href="/ui/entries/([^"]+)"', section)
    distances = re.findall(r'class="distance">([^<]+)<', section)
    return list(zip(links, distances, strict=True))


async def test_the_entry_page_and_the_groups_page_over_http(web: Stack) -> None:
    api = await web.api()
    original, copy, worse = await _copies(web, api, 1, ["Original", "Copy", "Worse copy"])
    [lonely] = await _entries(web, api, ["Lonely"])
    client = web.client()
    csrf = await sign_in(client, await web.token())

    page = (await client.get(f"/ui/entries/{original}")).text
    assert _near_on_page(page) == [(copy, "1 bit apart"), (worse, "2 bits apart")]
    assert "<h2>Near-duplicates</h2>" not in (await client.get(f"/ui/entries/{lonely}")).text

    groups = (await client.get("/ui/library/similar")).text
    first = min(original, copy, worse)  # a group is led by its first entry by id
    assert groups.count('aria-label="Group of ') == 1  # each group once
    assert f'aria-label="Group of {first}"' in groups
    assert "Lonely" not in groups

    archived = await client.post(
        f"/ui/entries/{worse}/archive", data={"csrf": csrf, "back": "/ui/library/similar"}
    )
    assert (archived.status_code, archived.headers["location"]) == (303, "/ui/library/similar")
    assert (await _entry(api, worse))["archived"] is True
    groups = (await client.get("/ui/library/similar")).text
    assert "<strong>archived</strong>" in groups.split(f"Group of {first}")[1]


@pytest.mark.parametrize(
    "back",
    [
        "//evil.example/ui/library/similar",
        "https://evil.example/ui/library/similar",
        "/ui/library/similar/../../../sign-out",
        "/ui/library/similarly",
        "/ui/library/similar?cursor=x\r\nSet-Cookie: a=b",
        "/ui/library/similar?cursor=a&next=//evil.example",
        "javascript:alert(1)",
        "/ui/library/similar?cursor=ä",
    ],
)
async def test_an_action_returns_nowhere_but_the_groups_page(web: Stack, back: str) -> None:
    api = await web.api()
    [entry_id] = await _entries(web, api, ["Going back"])
    client = web.client()
    csrf = await sign_in(client, await web.token())

    response = await client.post(
        f"/ui/entries/{entry_id}/archive", data={"csrf": csrf, "back": back}
    )

    assert (response.status_code, response.headers["location"]) == (303, f"/ui/entries/{entry_id}")


@pytest.mark.parametrize("cursor", ["nonsense", "x" * 101, "Zzxh", "%00"])
async def test_a_groups_cursor_it_did_not_give_is_a_400_page(web: Stack, cursor: str) -> None:
    client = web.client()
    await sign_in(client, await web.token())

    response = await client.get("/ui/library/similar", params={"cursor": cursor})

    assert response.status_code == 400, response.text


async def test_an_editor_archives_the_weaker_copy_in_the_browser(
    web: Stack, browser: Browser
) -> None:
    api = await web.api()
    ids = await _copies(web, api, 2, ["Harbour at dawn", "Harbour at dawn, resized"])
    original, copy = sorted(ids)  # the group's first by id, and the copy to archive
    await browser.sign_in(await web.token())

    await browser.open("/ui/library")
    await browser.click("a[href='/ui/library/similar']")
    group = f"section[aria-label='Group of {original}']"
    await browser.until(lambda d: d.find_elements("css selector", group), "the group")
    assert await browser.texts(f"{group} .distance") == ["1 bit apart"]
    await browser.shot("near-duplicates-groups")

    await browser.click(f"{group} form[action='/ui/entries/{copy}/archive'] button")
    await browser.until_text(group, "archived")
    assert await browser.path() == "/ui/library/similar"
    assert (await _entry(api, copy))["archived"] is True
    assert not await browser.all(f"{group} form[action='/ui/entries/{copy}/archive']")

    await browser.click(f"{group} a[href='/ui/entries/{original}']")
    await browser.until_text("ul.near", "1 bit apart")
    assert await browser.texts("ul.near .facts") == ["1 bit apart · archived"]
    await browser.shot("near-duplicates-entry")
    await browser.click(f"ul.near a[href='/ui/entries/{copy}']")
    await browser.until(lambda d: d.current_url.endswith(f"/ui/entries/{copy}"), "the copy")
    assert await browser.policy_violations() == []
    assert await browser.inline_code() == []
