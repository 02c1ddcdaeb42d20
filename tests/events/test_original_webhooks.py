"""Change events for webhooks configured the original API's way (issue 28): its config shape
(`settings.webhooks.configurations`), its payload (`projectId` a number, `projectHandle`,
`webhookHandle`) and its signature (`x-livingdocs-signature: sha256=<hex HMAC-SHA256>` with the
configuration's secret, over the body as JavaScript writes it again), beside the Standard
Webhooks headers, so that a receiver of either kind verifies."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from medialib.auth import tokens
from medialib.errors import ConfigError
from medialib.library.config import load_config
from medialib.library.events import Actor, EntryEvent, as_sent, entry_payload
from medialib.library.projects import Project, Subscription, new_webhook_secret
from tests.support import media
from tests.support.entries import image_entry, import_entries, new_key
from tests.support.imports import item
from tests.support.origin import Origin
from tests.support.stack import DEMO_MEDIA_TYPES, Stack
from tests.support.webhooks import Delivery, Receiver

V = "2026-05"
SECRET = "a-secret-token-to-sign-the-request"


def _original(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "handle": "cms",
        "label": "Our CMS",
        "url": url,
        "secret": SECRET,
        "events": [
            "mediaLibraryEntry.create",
            {"name": "mediaLibraryEntry.update"},
            "mediaLibraryEntry.revoke",
            {"name": "document.update", "conditions": {"contentTypes": ["regular"]}},
            "document.publish",
        ],
    } | changes


def _as_javascript_writes_it(raw: bytes) -> bytes:
    """JSON.stringify(JSON.parse(raw)): what a receiver of the original signs to compare."""
    return json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()


def _signed_like_the_original(delivery: Delivery, secret: str) -> bool:
    expected = hmac.new(secret.encode(), _as_javascript_writes_it(delivery.raw), hashlib.sha256)
    return hmac.compare_digest(
        delivery.headers.get("x-livingdocs-signature", ""), f"sha256={expected.hexdigest()}"
    )


async def test_a_receiver_of_the_original_gets_its_payload_and_signature(
    make_stack: Callable[..., Awaitable[Stack]], origin: Origin
) -> None:
    project_secret = new_webhook_secret()
    cms = await Receiver(secret=project_secret).start()
    off = await Receiver(secret=project_secret).start()
    project = {
        "handle": "newsroom",
        "projectId": 3,
        "mediaTypes": DEMO_MEDIA_TYPES,
        "webhookSecret": project_secret,
        "settings": {
            "handle": "newsroom",
            "languages": {"available": [{"locale": "de"}]},  # the editor's: ignored
            "webhooks": {
                "active": True,
                "configurations": [
                    _original(cms.url("cms")),
                    _original(off.url("off"), handle="paused", active=False),
                ],
            },
        },
    }
    stack = await make_stack(config={"projects": [project]})
    _, token = await tokens.create_token(
        stack.runtime.db, "newsroom", [tokens.READ, tokens.WRITE], name="cms-sync"
    )
    api = stack.client(token)
    key = new_key()
    await stack.put_asset(key)
    (made,) = await import_entries(api, [image_entry(key)])
    media_id = made["id"]

    created = await cms.delivered()
    assert created.verified  # the Standard Webhooks headers, with the project's secret
    assert _signed_like_the_original(created, SECRET)
    assert created.raw == _as_javascript_writes_it(created.raw)
    body = json.loads(created.raw)
    assert body == {
        "event": "mediaLibraryEntry.create",
        "deliveryId": created.headers["webhook-id"],
        "projectId": 3,
        "projectHandle": "newsroom",
        "webhookHandle": "cms",
        "mediaId": media_id,
        "actor": {"type": "api-client", "name": "cms-sync"},
        "occurredAt": body["occurredAt"],
    }
    assert isinstance(body["projectId"], int)
    tampered = created.raw.replace(media_id.encode(), b"someone-else")
    forged = Delivery(created.headers, created.body, True, 204, tampered)
    assert not _signed_like_the_original(forged, SECRET)
    assert not _signed_like_the_original(created, "another-secret")

    revoked = await api.patch(
        f"/api/{V}/mediaLibrary/{media_id}", json={"patches": [{"operation": "revokeAsset"}]}
    )
    assert revoked.status_code == 200, revoked.text
    # The original sends an update beside a state change.
    heard = [await cms.delivered(), await cms.delivered()]
    assert sorted(json.loads(d.raw)["event"] for d in heard) == [
        "mediaLibraryEntry.revoke",
        "mediaLibraryEntry.update",
    ]
    assert all(_signed_like_the_original(d, SECRET) for d in heard)
    assert off.deliveries == []  # an inactive configuration hears nothing

    archive = Receiver(secret=project_secret)
    await archive.start()
    try:
        picture = origin.file(f"{uuid.uuid4().hex[:10]}/p.jpg", media.jpeg())
        body_in = {
            "systemName": "dpa",
            "webhook": archive.url("job"),
            "images": [item(picture, "a1")],
        }
        started = await api.post(f"/api/{V}/import/images", json=body_in)
        assert started.status_code == 200, started.text
        imported = json.loads((await cms.delivered()).raw)
        assert imported["event"] == "mediaLibraryEntry.create"
        assert imported["actor"] == {"type": "importer", "name": "dpa"}
    finally:
        await archive.stop()
    await cms.stop()
    await off.stop()


def _load(tmp_path: Path, settings: dict[str, Any]) -> None:
    project = {"handle": "newsroom", "mediaTypes": DEMO_MEDIA_TYPES, "settings": settings}
    path = tmp_path / "medialib.yaml"
    path.write_text(yaml.safe_dump({"projects": [project]}))
    load_config(path)


URL = "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (
            {
                "webhooks": {
                    "configurations": [_original(URL, secret={"$secretRef": {"name": "x"}})]
                }
            },
            "$secretRef",
        ),
        (
            {
                "webhooks": {
                    "configurations": [_original(URL, events=["mediaLibraryEntry.explode"])]
                }
            },
            "mediaLibraryEntry.explode",
        ),
        (
            {
                "webhooks": {
                    "configurations": [
                        _original(
                            URL,
                            events=[
                                {
                                    "name": "mediaLibraryEntry.update",
                                    "conditions": {"contentTypes": ["a"]},
                                }
                            ],
                        )
                    ]
                }
            },
            "takes no conditions",
        ),
        ({"webhooks": {"configurations": [_original(URL), _original(URL)]}}, "defined twice"),
        ({"handle": "elsewhere"}, "not the project's handle"),
        ({"webhooks": {"configurations": [_original("ftp://x/y")]}}, "url"),
        ({"webhooks": {"configurations": [_original(URL, handle="a" * 51)]}}, "handle"),
        ({"webhooks": {"configurations": [_original(URL, secret="")]}}, "secret"),
        ({"webhooks": {"configurations": [_original(URL, events=[])]}}, "events"),
        ({"webhooks": {"configurations": [_original(URL, colour="red")]}}, "colour"),
    ],
)
def test_a_config_the_original_would_refuse_is_refused_by_name(
    tmp_path: Path, settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, settings)
    assert named in str(refused.value)


def test_the_original_settings_load_and_compile(tmp_path: Path) -> None:
    project = {
        "handle": "newsroom",
        "mediaTypes": DEMO_MEDIA_TYPES,
        "settings": {
            "handle": "newsroom",
            "webhooks": {"configurations": [_original(URL)]},
            "documentCopy": {"enabled": True},  # the editor's: ignored
        },
    }
    path = tmp_path / "medialib.yaml"
    path.write_text(yaml.safe_dump({"projects": [project]}))
    compiled = load_config(path).projects["newsroom"]
    (hook,) = compiled.webhooks
    assert (hook.handle, hook.secret, hook.url) == ("cms", SECRET, URL)
    assert hook.events == {
        "mediaLibraryEntry.create",
        "mediaLibraryEntry.update",
        "mediaLibraryEntry.revoke",
    }
    assert 1 <= compiled.number < 2**31  # a number of its own that stays with the handle
    assert load_config(path).projects["newsroom"].number == compiled.number


def test_a_persons_name_goes_out_only_where_the_configuration_asks_for_it() -> None:
    def hook(expose: bool) -> Subscription:
        return Subscription(URL, frozenset({"mediaLibraryEntry.update"}), "cms", None, expose)

    project = Project("newsroom", {}, webhooks=(hook(False),), number=7)

    payload = entry_payload(
        "newsroom", EntryEvent.UPDATE, "m1", "2026-12-06T15:00:00.000Z", Actor("user", "Ana")
    )
    hidden = as_sent(payload, "msg_1", project, hook(False))
    shown = as_sent(payload, "msg_1", project, hook(True))
    assert hidden["actor"] == {"type": "user"}
    assert shown["actor"] == {"type": "user", "name": "Ana"}
    assert (hidden["projectId"], hidden["webhookHandle"]) == (7, "cms")
    ours = as_sent(payload, "msg_1")  # medialib's own webhooks: its own shape, the actor in it
    assert ours["projectId"] == "newsroom"
    assert ours["actor"] == {"type": "user", "name": "Ana"}
