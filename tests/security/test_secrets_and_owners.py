"""Every secret does one job and every stored object has one owner (trust issue, items 1 to 3).

- The webhook secret, which every webhook receiver holds, signs nothing but webhooks: sessions,
  CSRF tokens and upload URLs are signed with keys derived from the server secret.
- Rotating a webhook secret signs nobody out; rotating the server secret signs everyone out and
  voids the upload URLs handed out.
- Rendition variants are medialib's own (no one registers a key under `v/`); an upload's key is
  its project's; an object shared on purpose is revoked while any of its entries is.
- The sign-in form is bound to its browser and refused from other sites.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from medialib.auth.tokens import list_tokens
from medialib.bootstrap import Runtime
from medialib.db.engine import Tx
from medialib.db.tables import media_entries
from medialib.library.assets import release
from medialib.library.projects import Project, sync_projects, webhook_secret
from medialib.server_secret import FILE_NAME, SecretKeyError, load_server_secret
from medialib.settings import Settings
from medialib.web.app import create_app
from medialib.web.session import COOKIE, SIGN_IN_COOKIE
from tests.support import media
from tests.support.entries import (
    image_asset,
    image_entry,
    import_entries,
    new_key,
    shared,
    stored_image,
)
from tests.support.server import LiveServer
from tests.support.sessions import form_token, sign_in
from tests.support.stack import Stack

V = "2026-05"
LIBRARY = f"/api/{V}/mediaLibrary"
UPLOADS = f"{LIBRARY}/uploads"


def _old_scheme_signature(secret: str, label: bytes, text: str) -> str:
    """How sessions and upload URLs were signed before: under the project's webhook secret."""
    key = hmac.new(secret.encode(), label, hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


async def _ask_upload(api: httpx.AsyncClient, data: bytes) -> dict[str, Any]:
    body = {"fileName": "p.jpg", "mimeType": "image/jpeg", "size": len(data)}
    answer = await api.post(UPLOADS, json=body)
    assert answer.status_code == 200, answer.text
    upload: dict[str, Any] = answer.json()
    return upload


async def _put(url: str, data: bytes) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.put(url, content=data, headers={"Content-Type": "image/jpeg"})


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


async def _signed_in(stack: Stack, project: str) -> tuple[httpx.AsyncClient, str]:
    client = stack.client()
    return client, await sign_in(client, await stack.token(project))


# --- One key per purpose ------------------------------------------------------------------


async def test_whoever_holds_a_webhook_secret_cannot_mint_a_session(
    stack: Stack, project: str
) -> None:
    """A webhook receiver knows its project's secret and can read token ids: with the old
    scheme that was a signed-in session."""
    secret = await webhook_secret(stack.runtime.db, project)
    await stack.token(project)
    token_id = (await list_tokens(stack.runtime.db, project))[0].id
    terms = f"{project}.{token_id}.{2_000_000_000}"
    forged = f"{terms}.{_old_scheme_signature(secret, b'medialib web session', terms)}"
    browser = stack.client()
    browser.cookies.set(COOKIE, forged, path="/ui")

    page = await browser.get("/ui/library")

    assert page.status_code == 303
    assert page.headers["location"].startswith("/ui/sign-in")


async def test_whoever_holds_a_webhook_secret_cannot_mint_an_upload_url(
    stack: Stack, project: str
) -> None:
    """Not for a rendition's key either: with the old scheme that poisoned a variant served as
    immutable."""
    secret = await webhook_secret(stack.runtime.db, project)
    data = media.jpeg(40, 30)
    for key in (new_key("jpg"), f"v/{new_key('jpg')}/{'0' * 32}.webp"):
        expires = 2_000_000_000
        text = f"{project}\n{key}\n{len(data)}\nimage/jpeg\n{expires}"
        signature = _old_scheme_signature(secret, b"medialib upload url", text)
        query = urlencode(
            {
                "project": project,
                "size": len(data),
                "type": "image/jpeg",
                "expires": expires,
                "signature": signature,
            }
        )

        answer = await _put(f"{stack.url}/uploads/{key}?{query}", data)

        assert answer.status_code == 403, answer.text
        assert await stack.runtime.storage.head(key) is None


async def test_a_new_webhook_secret_signs_nobody_out(stack: Stack, project: str) -> None:
    client, csrf = await _signed_in(stack, project)
    rotated = Project(project, stack.runtime.projects[project].media_types, "whsec_" + "A" * 43)

    await sync_projects(stack.runtime.db, [rotated])  # what a restart with a new config does

    page = await client.get("/ui/library")
    assert page.status_code == 200
    assert form_token(page.text) == csrf


async def test_a_new_server_secret_signs_everyone_out_and_voids_upload_urls(
    stack: Stack, project: str
) -> None:
    """A second server on the same database and storage, with another server secret: what
    the first one becomes when restarted with a rotated MEDIALIB_SECRET_KEY."""
    client, _ = await _signed_in(stack, project)
    api = await stack.api(project)
    data = media.jpeg(32, 24)
    upload = await _ask_upload(api, data)
    rotated = stack.settings.model_copy(update={"secret_key": SecretStr("r" * 48)})
    restarted = LiveServer(create_app(runtime=Runtime.from_settings(rotated))).start()
    try:
        assert (await client.get("/ui/library")).status_code == 200  # the old server: signed in
        moved = httpx.AsyncClient(base_url=restarted.url, cookies=client.cookies)
        async with moved:
            page = await moved.get("/ui/library")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/ui/sign-in")
        if upload["uploadUrl"].startswith(stack.url):  # medialib's own URL (the local store)
            path_and_query = upload["uploadUrl"].removeprefix(stack.url)
            answer = await _put(restarted.url + path_and_query, data)
            assert answer.status_code == 403, answer.text
            assert await stack.runtime.storage.head(upload["key"]) is None
    finally:
        restarted.stop()


def test_the_server_secret_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    made = load_server_secret(None, tmp_path)
    again = load_server_secret(None, tmp_path)

    assert made == again
    assert (tmp_path / FILE_NAME).stat().st_mode & 0o777 == 0o600


# --- One owner per object ------------------------------------------------------------------


async def test_no_one_registers_a_key_where_renditions_live(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    original = new_key()
    await stack.put_asset(original)
    [made] = await import_entries(api, [image_entry(original)])
    assert made["ok"], made
    rendition = await stack.client().get(f"/media/{original}?w=64")
    assert rendition.status_code == 200
    variants = await stack.runtime.storage.list_keys(f"v/{original}")
    assert variants, "the rendition is stored as a variant"
    poison = f"v/{original}/{'1' * 32}.jpeg"
    await stack.put_asset(poison)
    before = await stack.snapshot(project)

    attempts = [
        image_entry(variants[0]),
        image_entry(poison),
        image_entry(new_key()) | {"asset": image_asset(poison)},
    ]
    results = await import_entries(api, attempts)
    replaced = await api.patch(
        f"{LIBRARY}/{made['record']['id']}",
        json={"patches": [{"operation": "replaceAsset", "value": image_asset(variants[0])}]},
    )

    for result in results:
        assert result["status"] == 400, result
        assert "where medialib keeps renditions" in str(result), result
    assert replaced.status_code == 400, replaced.text
    assert "where medialib keeps renditions" in replaced.text
    assert await stack.snapshot(project) == before
    assert (await stack.client().get(f"/media/{variants[0]}")).status_code == 404


async def test_an_upload_is_registered_by_its_own_project_only(stack: Stack, project: str) -> None:
    owner, stranger = await stack.api(project), await stack.api("other")
    data = media.jpeg(48, 36)
    upload = await _ask_upload(owner, data)
    if upload["uploadUrl"].startswith("http"):
        stored = await _put(upload["uploadUrl"], data)
        assert stored.status_code == 200, stored.text
    asset = image_asset(upload["key"], size=len(data), width=48, height=36)
    entry = image_entry(upload["key"]) | {"asset": asset}

    [theirs] = await import_entries(stranger, [entry])
    [mine] = await import_entries(owner, [entry])

    assert theirs["status"] == 400, theirs
    assert "no stored object" in str(theirs)  # as if it did not exist: no project learns more
    assert mine["ok"], mine
    assert (await stack.client().get(f"/media/{upload['key']}")).content == data


async def test_an_object_shared_on_purpose_is_revoked_while_either_entry_is(
    stack: Stack, project: str
) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    results = await import_entries(api, [shared(image_entry(key)), shared(image_entry(key))])
    assert all(r["ok"] for r in results), results
    first, second = (r["record"]["id"] for r in results)
    public = stack.client()

    revoked = await api.patch(
        f"{LIBRARY}/{first}", json={"version": 1, "patches": [{"operation": "revokeAsset"}]}
    )

    assert revoked.json() == {"status": 200, "sharedWith": [{"key": key, "entries": [second]}]}
    for url in (f"/media/{key}", f"/media/{key}?w=32"):
        assert (await public.get(url)).status_code == 403
    assert (await api.get(f"{LIBRARY}/serve-image/{key}")).status_code == 403

    unrevoked = await api.patch(
        f"{LIBRARY}/{first}", json={"version": 2, "patches": [{"operation": "unrevokeAsset"}]}
    )
    assert unrevoked.json() == {"status": 200, "sharedWith": [{"key": key, "entries": [second]}]}
    assert (await public.get(f"/media/{key}")).status_code == 200
    browser, _ = await _signed_in(stack, project)
    page = await browser.get(f"/ui/entries/{first}")
    assert "shares objects on purpose" in page.text
    assert f'href="/ui/entries/{second}"' in page.text


# --- Sign-in from this site only ------------------------------------------------------------


async def _sign_in_form(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    """A sign-in form as the browser `client` was given it, filled in."""
    form = await client.get("/ui/sign-in")
    return {"token": token, "next": "/ui/library", "csrf": form_token(form.text)}


async def test_a_sign_in_posted_from_another_site_is_refused(stack: Stack, project: str) -> None:
    """Login CSRF: a page elsewhere posting the attacker's token would sign the victim into the
    attacker's project, where their uploads would land."""
    token = await stack.token(project)
    browser, elsewhere = stack.client(), stack.client()  # elsewhere: no form of its own
    cases: list[tuple[dict[str, str], dict[str, str], httpx.AsyncClient]] = [
        ({"csrf": ""}, {}, elsewhere),
        ({}, {}, elsewhere),  # another browser's form: its pre-session cookie is not here
        ({"csrf": "0" * 64}, {}, browser),
        ({"csrf": "é" * 64}, {}, browser),
        ({}, {"Sec-Fetch-Site": "cross-site"}, browser),
        ({}, {"Sec-Fetch-Site": "same-site"}, browser),
        ({}, {"Origin": "http://evil.example"}, browser),
        ({}, {"Origin": "http://["}, browser),
    ]

    for changes, headers, sender in cases:
        sent = await _sign_in_form(browser, token) | changes
        refused = await sender.post("/ui/sign-in", data=sent, headers=headers)
        assert refused.status_code == 403, (changes, headers, refused.text)
        assert COOKIE not in refused.cookies

    sent = await _sign_in_form(browser, token)
    accepted = await browser.post(
        "/ui/sign-in", data=sent, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert accepted.status_code == 303, accepted.text
    assert COOKIE in accepted.cookies
    assert SIGN_IN_COOKIE not in browser.cookies  # the pre-session is over


async def test_forms_posted_from_another_site_change_nothing(stack: Stack, project: str) -> None:
    api = await stack.api(project)
    key = new_key()
    await stack.put_asset(key)
    [made] = await import_entries(api, [image_entry(key)])
    client, csrf = await _signed_in(stack, project)
    before = await stack.snapshot(project)
    archive = f"/ui/entries/{made['record']['id']}/archive"

    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        refused = await client.post(archive, data={"csrf": csrf}, headers=headers)
        assert refused.status_code == 403, refused.text

    assert await stack.snapshot(project) == before
    done = await client.post(
        archive, data={"csrf": csrf}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert done.status_code == 303


async def test_an_object_let_go_of_stays_its_projects_until_its_bytes_are_gone(
    stack: Stack, project: str
) -> None:
    """The window between a delete's commit and the task that deletes the bytes: another
    project registering the key then served the victim's picture again, under its own name."""
    victim, stranger = await stack.api(project), await stack.api("other")
    data = media.jpeg(77, 55)
    key = new_key()
    await stack.put_asset(key, data)
    entry = image_entry(key) | {"asset": image_asset(key, size=len(data), width=77, height=55)}
    [made] = await import_entries(victim, [entry])
    assert made["ok"], made

    # What DELETE commits, without its task having run yet.
    def delete_without_its_task(tx: Tx) -> None:
        gone = sa.and_(media_entries.c.project == project, media_entries.c.id == made["id"])
        tx.execute(media_entries.delete().where(gone))
        assert release(tx, project, [key]) == [key]

    await stack.runtime.db.transact(delete_without_its_task)

    [theirs] = await import_entries(stranger, [image_entry(key) | {"asset": entry["asset"]}])
    [again] = await import_entries(victim, [image_entry(key) | {"asset": entry["asset"]}])
    assert theirs["status"] == 400, theirs
    assert "no stored object" in str(theirs)
    assert again["status"] == 400, again  # its own project cannot take up what is being deleted
    assert (await stack.client().get(f"/media/{key}")).status_code == 404
    assert await stack.runtime.storage.head(key) is not None  # the task has not run


async def test_what_a_registration_says_of_anothers_object_is_never_checked(
    stack: Stack, project: str
) -> None:
    """As if it did not exist: no size, type or dimensions of another project's object (or of
    its upload not registered yet) come back in the refusal."""
    victim, stranger = await stack.api(project), await stack.api("other")
    registered = await stored_image(stack, victim)
    data = media.jpeg(60, 40)
    upload = await _ask_upload(victim, data)
    if upload["uploadUrl"].startswith("http"):
        assert (await _put(upload["uploadUrl"], data)).status_code == 200
    missing = new_key()

    answers = {}
    for name, key in (
        ("asset", registered["asset"]["key"]),
        ("upload", upload["key"]),
        ("none", missing),
    ):
        lie = image_asset(key, size=1, width=1, height=1)
        [result] = await import_entries(stranger, [image_entry(key) | {"asset": lie}])
        own = await stored_image(stack, stranger)
        patch = {"patches": [{"operation": "replaceAsset", "value": lie}]}
        replaced = await stranger.patch(f"{LIBRARY}/{own['id']}", json=patch)
        answers[name] = (result, replaced.json())

    for name in ("asset", "upload"):
        registered_answer, patched_answer = answers[name]
        key = registered["asset"]["key"] if name == "asset" else upload["key"]
        assert f"no stored object at '{key}'" in str(registered_answer), registered_answer
        assert "stored object has" not in str(registered_answer)
        assert patched_answer["error_details"] == {
            "patches.0.value.key": f"no stored object at '{key}'"
        }, patched_answer


async def test_two_puts_to_one_upload_url_store_one_body(stack: Stack, project: str) -> None:
    """Both bodies held back by their last byte, then sent at once: the store takes one."""
    api = await stack.api(project)
    first, second = media.jpeg(30, 20), media.jpeg(31, 21)[: len(media.jpeg(30, 20))]
    upload = await _ask_upload(api, first)
    if not upload["uploadUrl"].startswith(stack.url):
        pytest.skip("S3 takes presigned PUTs itself")
    target = urlsplit(upload["uploadUrl"])
    streams = []
    for body in (first, second):
        reader, writer = await asyncio.open_connection(target.hostname, target.port)
        head = (
            f"PUT {target.path}?{target.query} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body[:-1])
        await writer.drain()
        streams.append((reader, writer, body))
    for _, writer, body in streams:
        writer.write(body[-1:])
    statuses = []
    for reader, writer, _ in streams:
        statuses.append((await reader.readline()).split()[1])
        writer.close()

    assert sorted(statuses) == [b"200", b"409"]
    stored = await stack.runtime.storage.read(upload["key"])
    assert stored in (first, second)


async def test_an_upload_is_no_larger_than_the_project_could_register(
    stack: Stack, project: str
) -> None:
    """A project without videos takes no 5 GB upload (its largest kind: files, 100 MB)."""
    asked = {"fileName": "big.bin", "mimeType": "application/pdf", "size": 200 * 1024 * 1024}

    refused = await (await stack.api("typed")).post(UPLOADS, json=asked)
    accepted = await (await stack.api(project)).post(
        UPLOADS, json=asked | {"mimeType": "video/mp4", "fileName": "big.mp4"}
    )

    assert refused.status_code == 400, refused.text
    assert "size" in refused.json()["error_details"]
    assert accepted.status_code == 200, accepted.text


def test_the_server_secret_from_the_environment_is_not_blank(tmp_path: Path) -> None:
    for blank in ("", " " * 40, "\t" * 33):
        with pytest.raises(SecretKeyError):
            load_server_secret(blank, tmp_path)
    assert not (tmp_path / FILE_NAME).exists()  # never a silent fall back to the file


def test_a_new_home_is_its_owners_only(tmp_path: Path) -> None:
    home = tmp_path / "medialib-data"

    Runtime.from_settings(Settings(home=home))

    assert home.stat().st_mode & 0o777 == 0o700
