"""`GET /metrics` of a server running in this process: a job's items counted by kind, state and
reason as its status tells them, the other metrics moving where their things happen, labels
that never carry a path, an id or a host, Debian's promtool satisfied, and the metrics refused to
addresses outside MEDIALIB_METRICS_ALLOW.

Counters are the process's, and other tests' servers share this process: what a test checks of a
counter is how far it moved while the test ran (the gauges are this stack's own database's)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from medialib import metrics
from medialib.bootstrap import Runtime
from medialib.errors import ConfigError
from medialib.settings import Settings
from tests.support import media
from tests.support.imports import Importer, item
from tests.support.metrics import Exposition, promtool_check, scrape
from tests.support.origin import Origin
from tests.support.process import free_port
from tests.support.stack import Stack


def expected_items(*statuses: Any) -> Counter[tuple[str, str, str]]:
    return Counter(
        ("image", one["state"], one.get("reasonCode", "")) for s in statuses for one in s["images"]
    )


async def test_a_job_is_counted_as_its_status_tells_it_and_promtool_passes(
    make_stack: Any, origin: Origin, tmp_path: Any
) -> None:
    stack: Stack = await make_stack()
    importer = await Importer.open(stack, "demo")
    prefix = uuid.uuid4().hex[:8]
    pictures = [media.jpeg(40 + i, 30, Artist=f"{prefix}-{i}") for i in range(3)]
    urls = [origin.file(f"{prefix}/{i}.jpg", body) for i, body in enumerate(pictures)]
    missing = origin.status(f"{prefix}/missing.jpg", 404)
    before = await scrape(stack.url)
    try:
        first, _ = await importer.run(
            [item(url, f"{prefix}-{i}") for i, url in enumerate(urls)]
            + [
                item(missing, f"{prefix}-missing"),
                item(urls[0], f"{prefix}-bad", metadata={"nope": "not a property"}),
            ]
        )
        again, _ = await importer.run([item(urls[0], f"{prefix}-0")])  # skipped: already there
        # A receiver that is never there: every attempt fails, the last for good.
        dead = f"http://127.0.0.1:{free_port()}/hook"
        unheard = await importer.start([item(urls[1], f"{prefix}-1")], webhook=dead)
        unheard_status = await importer.settled(unheard)
        assert unheard_status["webhook"]["state"] == "failed"
        rendition = local(first["images"][0]["image"]["url"]) + "&w=20"
        api = stack.client()
        assert (await api.get(rendition)).status_code == 200  # made
        assert (await api.get(rendition)).status_code == 200  # read from storage
        after = await scrape(stack.url)
    finally:
        await importer.close()

    want = expected_items(first, again, unheard_status)
    assert {state for _, state, _ in want} == {"success", "skipped", "failed"}
    assert {reason for _, state, reason in want if state == "failed"} == {
        "http_404",
        "invalid_metadata",
    }
    # At least: other tests' servers in this process may count too (the exact count, over
    # processes of their own, is tests/scaleout/test_metrics_processes.py's).
    counted = after.items() - before.items()
    assert counted >= want, (counted, want)
    assert after.value("medialib_import_jobs", state="success") == 3  # this stack's database
    assert after.value("medialib_import_jobs", state="started") == 0
    assert after.value("medialib_tasks_pending", state="doing") >= 0
    assert "medialib_tasks_pending" in after.families
    moved = Delta(before, after)
    assert moved("medialib_fetch_bytes_total") >= sum(len(p) for p in pictures)
    assert moved("medialib_fetch_duration_seconds_count", outcome="ok") >= 3
    assert moved("medialib_fetch_duration_seconds_count", outcome="failed") >= 1
    assert moved("medialib_webhook_deliveries_total", outcome="delivered") >= 2
    assert moved("medialib_webhook_deliveries_total", outcome="retrying") >= 7
    assert moved("medialib_webhook_deliveries_total", outcome="failed") >= 1
    assert moved("medialib_renditions_total", result="miss") >= 1
    assert moved("medialib_renditions_total", result="hit") >= 1
    assert moved("medialib_render_duration_seconds_count") >= 1
    status_route = "/api/{version}/import/images/status"
    assert moved("medialib_http_requests_total", route=status_route, status="200") >= 2
    assert moved("medialib_http_request_duration_seconds_count", route=status_route) >= 2
    never = {first["id"], again["id"], unheard, prefix, str(origin.port), "127.0.0.1", "hook"}
    assert not {v for v in after.label_values() if any(n in v for n in never)}
    promtool_check(after.text)


class Delta:
    def __init__(self, before: Exposition, after: Exposition) -> None:
        self.before, self.after = before, after

    def __call__(self, name: str, **labels: str) -> float:
        return self.after.total(name, **labels) - self.before.total(name, **labels)


def local(url: str) -> str:
    """A URL handed out under MEDIALIB_PUBLIC_URL, as a path on the test server."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_requests_are_counted_by_route_template_never_by_path(make_stack: Any) -> None:
    stack: Stack = await make_stack()
    secret = uuid.uuid4().hex
    client = stack.client(await stack.token())
    for path in (
        f"/api/2026-05/mediaLibrary/{secret}",  # 404: an entry the project does not have
        f"/api/{secret}/mediaLibrary",  # an unknown version
        f"/{secret}/nothing",  # no route at all
        f"/ui/{secret}",  # nothing of the web view
        f"/ui/static/{secret}.css",
        f"/media/{secret}.jpg?w={secret}",
    ):
        await client.get(path)
    await client.request("PROPFIND", f"/api/2026-05/mediaLibrary/{secret}")  # a WebDAV method
    exposition = await scrape(stack.url)

    routes = {dict(ls)["route"] for n, ls in exposition.samples if "route" in dict(ls)}
    assert "/api/{version}/mediaLibrary/{id}" in routes
    assert "unmatched" in routes
    assert {"/ui/{path}", "/ui/static/{path}"} <= routes  # under a mount, with no route of its own
    assert not [r for r in routes if secret in r]
    assert not [v for v in exposition.label_values() if secret in v or v == "PROPFIND"]
    assert exposition.total("medialib_http_requests_total", method="other") >= 1
    promtool_check(exposition.text)


async def test_metrics_need_no_token_and_only_allowed_addresses_get_them(make_stack: Any) -> None:
    stack: Stack = await make_stack(metrics_allow=["127.0.0.1/32"])
    allowed = await stack.client().get("/metrics")  # from 127.0.0.1, without a token
    assert allowed.status_code == 200
    assert "medialib_http_requests_total" in allowed.text

    # 127.0.0.2 is loopback too, but outside the allowed network.
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=stack.url, transport=transport) as outsider:
        refused = await outsider.get("/metrics")
        token = await stack.token()
        with_token = await outsider.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert refused.json()["status"] == 403
    assert "MEDIALIB_METRICS_ALLOW" in refused.json()["error_details"]["client"]
    assert "medialib_" not in refused.text
    assert with_token.status_code == 403  # a token is no key to the metrics
    # A proxy on this machine (127.0.0.1, which uvicorn trusts to name its client) passing on
    # a request from elsewhere: the client named is refused. And a client elsewhere naming
    # an allowed address itself is not believed.
    relayed = await stack.client().get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403
    async with httpx.AsyncClient(base_url=stack.url, transport=transport) as outsider:
        claimed = await outsider.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert claimed.status_code == 403


@pytest.mark.parametrize(
    "bad", [["everyone"], ["127.0.0.1/33"], ["10.0.0.0/8", ""], ["::1/129"], ["127.0.0.1 "]]
)
def test_a_bad_allow_list_stops_the_start_by_name(tmp_path: Any, bad: list[str]) -> None:
    settings = Settings(home=tmp_path, metrics_allow=bad)
    with pytest.raises(ConfigError, match="MEDIALIB_METRICS_ALLOW"):
        Runtime.from_settings(settings)


@pytest.mark.parametrize(
    ("client", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # IPv4 on a dual-stack socket
        ("::ffff:10.0.0.1", False),
        ("127.0.0.2", False),
        ("fe80::1%eth0", False),
        ("localhost", False),  # a name is not an address
        ("", False),
        (None, False),
    ],
)
def test_who_may_scrape(client: str | None, allowed: bool) -> None:
    allow = metrics.parse_allow(["127.0.0.1/32", "::1/128"])
    assert metrics.may_scrape(client, allow) is allowed


def test_reason_labels_stay_a_small_set() -> None:
    assert metrics.reason_label("http_404") == "http_404"
    assert metrics.reason_label(None) == ""
    assert metrics.reason_label("http://example.com/x") == "other"
    assert metrics.reason_label("x" * 41) == "other"
